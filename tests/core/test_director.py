"""Who speaks next: call words, addressing and the weighted choice."""

from bot.director import (
    Address,
    addressed_persona,
    call_words,
    choose_speaker,
    is_addressed,
    next_in_chain,
)
from bot.models import Persona

NARRATOR = Persona(id="narrator", name="The Narrator", talkativeness=0.5)
MARTA = Persona(id="marta", name="Marta Greyhollow", talkativeness=0.8)
VEX = Persona(id="vex", name="Vex", talkativeness=0.2, call_words=("rogue",))
CAST = (NARRATOR, MARTA, VEX)


def test_call_words_skip_articles_and_keep_first_names():
    assert call_words(NARRATOR) == ("Narrator", "The Narrator")
    assert call_words(MARTA) == ("Marta", "Marta Greyhollow")
    assert call_words(VEX) == ("Vex", "rogue")


def test_common_words_do_not_address_anyone():
    assert addressed_persona("I walk to the door.", Address(), CAST) is None
    assert not is_addressed("Then the rain stops.", Address(), CAST)


def test_names_address_in_order_of_appearance_and_ignore_substrings():
    assert addressed_persona("Vex and Marta, look!", Address(), CAST) == "vex"
    assert addressed_persona("narrator, help", Address(), CAST) == "narrator"
    assert addressed_persona("The vexing rogue-ish thing", Address(), CAST) == "vex"
    assert addressed_persona("Martabak is a dish", Address(), CAST) is None


def test_reply_to_a_persona_wins_over_names():
    address = Address(reply_to_persona="marta")
    assert addressed_persona("Vex?", address, CAST) == "marta"


def test_bot_mention_addresses_the_scene_without_a_persona():
    assert is_addressed("hello", Address(bot_mentioned=True), CAST)
    assert addressed_persona("hello", Address(bot_mentioned=True), CAST) is None


def test_choice_follows_talkativeness_and_avoids_the_last_speaker():
    picks = [choose_speaker(CAST, ["marta"], rng=lambda v=v: v / 100) for v in range(100)]
    assert picks.count("marta") < picks.count("narrator")
    streak = [choose_speaker(CAST, ["marta", "marta"], rng=lambda v=v: v / 100) for v in range(100)]
    assert "marta" not in streak


def test_single_persona_always_speaks_and_empty_cast_never():
    assert choose_speaker((VEX,), ["vex", "vex"]) == "vex"
    assert choose_speaker((), []) is None


def test_chain_needs_budget_and_another_named_persona():
    assert next_in_chain("Marta, your turn.", "narrator", CAST, 1) == "marta"
    assert next_in_chain("Marta, your turn.", "narrator", CAST, 0) is None
    assert next_in_chain("I, Marta, agree.", "marta", CAST, 2) is None
