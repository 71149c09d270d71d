"""Token estimates per code-point class, the floor, calibration and the prompt budget."""

import math

import pytest

from bot.tokens import PromptBudget, TokenEstimator

ZALGO = "Z" + "\u0336\u0334\u0337\u0335\u0321\u0322\u0327\u0328" * 6 + "a" + "\u0300\u0301" * 20
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 4 emoji, 3 joiners
FLAG = "\U0001f1eb\U0001f1f7"
RTL = "مرحبا بكم في بيت الشاي"  # Arabic
HEBREW = "שלום עליכם"


def test_ascii_uses_the_ascii_rate():
    estimator = TokenEstimator()
    assert estimator.estimate_raw("") == 0
    assert estimator.estimate_raw("a b " * 25) == 30
    assert estimator.count("Hello, tea house!") == math.ceil(17 * 0.3)


def test_a_long_word_costs_more_than_prose():
    estimator = TokenEstimator()
    word = "x" * 1000
    assert estimator.estimate_raw(word) == 500  # 0.5 per character beyond 20 without a space
    assert estimator.estimate_raw("word " * 200) == 300
    assert estimator.estimate_raw("a" * 20) == 6  # a normal word keeps the prose rate


def test_cjk_costs_one_token_per_character():
    estimator = TokenEstimator()
    chinese = "今天的天气很好我们去喝茶吧"
    assert estimator.estimate_raw(chinese) == len(chinese)
    assert estimator.estimate_raw("お茶をどうぞ") == 6
    assert estimator.estimate_raw("안녕하세요") == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("café", math.ceil(3 * 0.3 + 1)),
        ("“quoted” — fine…", 13 * 0.3 + 4),  # 13 ASCII; 2 quotes, a dash, an ellipsis
        ("привет", 6),
        (RTL, 18 + 4 * 0.3),  # 18 Arabic letters at one each; the 4 spaces are ASCII
        ("tea 茶", math.ceil(4 * 0.3 + 1.0)),
        ("hi 🙂", math.ceil(3 * 0.3 + 4)),  # an emoji costs its 4 UTF-8 bytes
    ],
)
def test_mixed_text_is_counted_per_class(text, expected):
    assert TokenEstimator().estimate_raw(text) == math.ceil(expected)


def test_symbols_marks_and_joiners_cost_their_bytes():
    estimator = TokenEstimator()
    assert estimator.estimate_raw(FAMILY) == 4 * 4 + 3 * 3
    assert estimator.estimate_raw(FLAG) == 8
    assert estimator.estimate_raw("\u0301") == 2  # a combining acute accent is 2 bytes
    assert estimator.estimate_raw(ZALGO) == 2 + 48 * 2 + 40 * 2 - 1  # "Z"+"a" at 0.3 each


def test_heavy_text_is_never_below_one_token_per_non_ascii_code_point():
    estimator = TokenEstimator()
    for _ in range(32):
        estimator.calibrate(10_000, 2_500)  # the provider counts a quarter of our estimate
    assert estimator.factor == estimator.lowest
    for text in (ZALGO * 50, FAMILY * 100, "今天的天气很好" * 100, RTL * 30, HEBREW * 30):
        non_ascii = sum(1 for char in text if ord(char) > 127)
        assert estimator.count(text) >= non_ascii
        assert estimator.floor(text) >= non_ascii


def test_remembered_estimates_equal_fresh_ones_and_memory_stays_bounded(monkeypatch):
    import bot.tokens as tokens

    monkeypatch.setattr(tokens, "_RAW_CACHE_CHARS", 1_000)
    texts = ["word " * n + ZALGO * (n % 3) + FAMILY * (n % 2) + "猫" * n for n in range(200)]
    remembering = TokenEstimator()
    first = [remembering.estimate_raw(text) for text in texts]
    again = [remembering.estimate_raw(text) for text in reversed(texts)]
    fresh = [TokenEstimator().estimate_raw(text) for text in texts]
    assert first == fresh and again == fresh[::-1]
    assert sum(map(len, remembering._raw)) <= 1_000 + max(map(len, texts))


def test_floor_counts_ascii_too():
    estimator = TokenEstimator()
    assert estimator.floor("a" * 60) == 10
    assert estimator.floor("é" * 5 + "a" * 6) == 6


def test_message_overhead_and_name():
    estimator = TokenEstimator(ascii_rate=1.0, message_overhead=4)
    assert estimator.message_raw("hello") == 4 + 5
    assert estimator.message_raw("hello", "Alice") == 4 + 5 + 1 + 5
    assert estimator.message_tokens("hello", "Alice") == 4 + 5 + 1 + 5


def test_count_uses_a_stored_raw_estimate():
    estimator = TokenEstimator()
    assert estimator.count("hello there", raw=100) == 100
    assert estimator.count("hello there", raw=0) == estimator.estimate_raw("hello there")


def test_calibration_moves_the_factor_towards_reports():
    estimator = TokenEstimator(key="openrouter:m")
    raw = estimator.estimate_raw("x " * 500)
    estimator.calibrate(raw, raw * 2)
    assert estimator.factor == pytest.approx(2.0)
    assert estimator.count("x " * 500) == raw * 2
    assert estimator.samples == 1
    assert "×2.00" in estimator.describe()


def test_calibration_is_a_moving_average_of_implied_factors():
    estimator = TokenEstimator(window=4)
    estimator.calibrate(100, 150)
    assert estimator.factor == pytest.approx(1.5)
    estimator.calibrate(100, 100)
    assert estimator.factor == pytest.approx(1.25)
    for _ in range(4):
        estimator.calibrate(100, 90)
    assert estimator.factor == pytest.approx(0.9)


def test_calibration_stays_between_lowest_and_ceiling():
    estimator = TokenEstimator(lowest=0.8, ceiling=2.0)
    for _ in range(10):
        estimator.calibrate(1000, 10)
    assert estimator.factor == 0.8
    for _ in range(40):
        estimator.calibrate(1000, 100_000)
    assert estimator.factor == 2.0


@pytest.mark.parametrize(("raw", "reported"), [(0, 100), (100, 0), (-5, 10)])
def test_calibration_ignores_nonsense(raw, reported):
    estimator = TokenEstimator()
    estimator.calibrate(raw, reported)
    assert estimator.factor == 1.0
    assert estimator.describe() == "not calibrated yet, counting conservatively"


def test_an_overflow_refusal_raises_the_estimate_at_once():
    estimator = TokenEstimator()
    for _ in range(8):
        estimator.calibrate(1000, 700)
    estimator.learn_overflow(40_000, 63_000)
    assert estimator.factor == pytest.approx(1.1 * 63_000 / 40_000)
    assert estimator.scale(40_000) > 63_000
    estimator.learn_overflow(40_000, 10)  # says nothing new: the factor stays
    assert estimator.factor == pytest.approx(1.1 * 63_000 / 40_000)


def test_scale_and_unscale_round_trip_conservatively():
    estimator = TokenEstimator()
    estimator.calibrate(300, 400)
    for raw in (1, 7, 1000, 12345):
        assert estimator.scale(estimator.unscale(estimator.scale(raw))) <= estimator.scale(raw)
    assert estimator.scale(estimator.unscale(1000)) <= 1000


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="lowest"):
        TokenEstimator(lowest=1.5)
    with pytest.raises(ValueError, match="one token per code point"):
        TokenEstimator(cjk_rate=0.5)


def test_prompt_budget():
    assert PromptBudget().prompt_tokens == 65536 - 2048 - 2048
    assert PromptBudget(reply_tokens=600, safety_margin=1000).prompt_tokens == 63936
    with pytest.raises(ValueError, match="no room"):
        PromptBudget(context_tokens=1000, reply_tokens=1000)
    with pytest.raises(ValueError, match="negative"):
        PromptBudget(history_tokens=-1)


def test_shrunk_budget_keeps_the_window_and_lowers_the_prompt():
    budget = PromptBudget(context_tokens=65536, reply_tokens=600, history_tokens=24000)
    smaller = budget.shrunk(50_000)
    assert smaller.prompt_tokens == 40_000
    assert smaller.context_tokens == budget.context_tokens
    assert smaller.reply_tokens == budget.reply_tokens
    assert budget.shrunk(100_000).prompt_tokens == budget.prompt_tokens
    assert budget.shrunk(0).prompt_tokens == 1
