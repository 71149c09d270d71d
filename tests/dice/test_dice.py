"""Dice: the notation tabletop players use, limits checked before rolling, clear errors."""

import random

import pytest

from bot.dice import (
    MAX_DICE,
    MAX_INLINE_ROLLS,
    MAX_SIDES,
    DiceError,
    clean_reason,
    inline_rolls,
    roll,
)


@pytest.fixture(autouse=True)
def seeded():
    state = random.getstate()
    random.seed(20)
    yield
    random.setstate(state)


@pytest.mark.parametrize(
    ("expression", "low", "high"),
    [("d20", 1, 20), ("2d6+3", 5, 15), ("4d6kh3", 3, 18), ("d20 adv", 1, 20), ("1d8 - 1", 0, 7)],
)
def test_common_notation(expression, low, high):
    made = roll(expression)
    assert low <= made.total <= high
    assert "`" in made.breakdown and str(made.total) in made.breakdown


def test_advantage_rolls_two_and_keeps_the_higher():
    made = roll("d20 advantage")
    assert made.breakdown.startswith("2d20kh1")
    assert made.expression == "1d20 (advantage)"
    assert roll("d20 dis").breakdown.startswith("2d20kl1")


def test_the_memory_sentence():
    made = roll("1d20+4")
    assert made.sentence("bob", "Stealth") == f"bob rolled 1d20+4 = {made.total} for Stealth"
    assert made.sentence("bob") == f"bob rolled 1d20+4 = {made.total}"


def test_seeded_rolls_repeat():
    random.seed(7)
    first = roll("3d6").total
    random.seed(7)
    assert roll("3d6").total == first


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "Give a dice expression"),
        ("   ", "Give a dice expression"),
        ("2d", "can't read"),
        ("fireball", "can't read"),
        (f"1d{MAX_SIDES + 1}", "sides"),
        (f"{MAX_DICE + 1}d6", "dice in one roll"),
        ("60d6+60d6", "dice in one roll"),
        ("1d6" + "+1" * 60, "too long"),
        ("1d6e6" * 1, None),
        ("1d1e1", "too many dice"),
    ],
)
def test_bad_rolls_give_a_clear_error(expression, message):
    if message is None:
        assert roll(expression).total >= 1
        return
    with pytest.raises(DiceError, match=message):
        roll(expression)


def test_inline_rolls_are_replaced_by_their_results():
    rolled = inline_rolls("I sneak past [[1d20+4]] and swing [[2d6]]!")
    assert rolled is not None
    stealth, swing = rolled.rolls
    assert rolled.text == (
        f"I sneak past [1d20+4 = {stealth.total}] and swing [2d6 = {swing.total}]!"
    )
    assert inline_rolls("no dice here [not [[this]") is None


def test_one_bad_inline_roll_rolls_nothing():
    with pytest.raises(DiceError):
        inline_rolls("[[1d20]] and [[banana]]")
    with pytest.raises(DiceError, match=str(MAX_INLINE_ROLLS)):
        inline_rolls(" ".join("[[d6]]" for _ in range(MAX_INLINE_ROLLS + 1)))


def test_reasons_are_one_short_line():
    assert clean_reason("  Stealth \n check ") == "Stealth check"
    with pytest.raises(DiceError):
        clean_reason("x" * 200)
