"""Token estimates, calibration and the prompt budget."""

import math

import pytest

from bot.tokens import PromptBudget, TokenEstimator


def test_ascii_uses_the_latin_rate():
    estimator = TokenEstimator()
    assert estimator.estimate_raw("") == 0
    assert estimator.estimate_raw("a" * 100) == 30
    assert estimator.estimate("Hello, tea house!") == math.ceil(17 * 0.3)


def test_cjk_costs_more_per_character_than_latin():
    estimator = TokenEstimator()
    chinese = "今天的天气很好我们去喝茶吧"
    japanese = "お茶をどうぞ"
    assert estimator.estimate_raw(chinese) == len(chinese)
    assert estimator.estimate_raw(japanese) == len(japanese)
    assert estimator.estimate_raw("안녕하세요") == 5
    assert estimator.estimate_raw(chinese) > estimator.estimate_raw("a" * len(chinese)) * 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("café", math.ceil(4 * 0.3)),
        ("“quoted” — fine…", math.ceil(16 * 0.3)),
        ("привет", math.ceil(6 * 0.6)),
        ("tea 茶", math.ceil(4 * 0.3 + 1.0)),
        ("hi 🙂", math.ceil(3 * 0.3 + 0.6)),
    ],
)
def test_mixed_text_is_counted_per_class(text, expected):
    assert TokenEstimator().estimate_raw(text) == expected


def test_custom_rates():
    estimator = TokenEstimator(latin_rate=0.25, cjk_rate=0.5, other_rate=2.0)
    assert estimator.estimate_raw("abcd" * 10) == 10
    assert estimator.estimate_raw("茶" * 10) == 5
    assert estimator.estimate_raw("я" * 10) == 20


def test_message_overhead_and_name():
    estimator = TokenEstimator(latin_rate=1.0, message_overhead=4)
    assert estimator.message_raw("hello") == 4 + 5
    assert estimator.message_raw("hello", "Alice") == 4 + 5 + 1 + 5


def test_calibration_moves_the_factor_towards_reports():
    estimator = TokenEstimator()
    raw = estimator.estimate_raw("x" * 1000)
    estimator.calibrate(raw, raw * 2)
    assert estimator.factor == pytest.approx(2.0)
    assert estimator.estimate("x" * 1000) == raw * 2


def test_calibration_is_a_moving_average_of_implied_factors():
    estimator = TokenEstimator(window=4)
    estimator.calibrate(100, 150)  # implied 1.5
    assert estimator.factor == pytest.approx(1.5)
    estimator.calibrate(estimator.scale(100), 100)  # estimate was 150, truth 100: implied 1.0
    assert estimator.factor == pytest.approx(1.25)
    for _ in range(4):
        estimator.calibrate(estimator.scale(100), 90)
    assert estimator.factor == pytest.approx(0.9, abs=0.01)


def test_calibration_never_goes_below_the_floor_or_above_the_ceiling():
    estimator = TokenEstimator(floor=0.8, ceiling=2.0)
    for _ in range(10):
        estimator.calibrate(1000, 10)
    assert estimator.factor == 0.8
    for _ in range(40):
        estimator.calibrate(estimator.scale(1000), 100_000)
    assert estimator.factor == 2.0


@pytest.mark.parametrize(("estimated", "reported"), [(0, 100), (100, 0), (-5, 10)])
def test_calibration_ignores_nonsense(estimated, reported):
    estimator = TokenEstimator()
    estimator.calibrate(estimated, reported)
    assert estimator.factor == 1.0


def test_scale_and_unscale_round_trip_conservatively():
    estimator = TokenEstimator()
    estimator.calibrate(300, 400)
    for raw in (1, 7, 1000, 12345):
        assert estimator.scale(estimator.unscale(estimator.scale(raw))) <= estimator.scale(raw)
    assert estimator.scale(estimator.unscale(1000)) <= 1000


def test_invalid_bounds_are_rejected():
    with pytest.raises(ValueError, match="floor"):
        TokenEstimator(floor=1.5)


def test_prompt_budget():
    assert PromptBudget().prompt_tokens == 65536 - 2048 - 2048
    assert PromptBudget(reply_tokens=600, safety_margin=1000).prompt_tokens == 63936
    with pytest.raises(ValueError, match="no room"):
        PromptBudget(context_tokens=1000, reply_tokens=1000)
    with pytest.raises(ValueError, match="negative"):
        PromptBudget(history_tokens=-1)
