"""Pure pieces of bot.llm: clamping, backoff, Retry-After, error classes and the error tree."""

import math

import pytest

import bot.llm
from bot.llm import (
    MAX_OUTPUT_TOKENS,
    AuthError,
    ContentFilteredError,
    InputFilteredError,
    LLMClient,
    LLMError,
    LLMTimeoutError,
    RateLimitedError,
    RetryableError,
    SamplingParams,
    StreamInterruptedError,
    TransientError,
    clamp_max_tokens,
    clamp_temperature,
    clamp_top_p,
)
from bot.llm.classify import class_for_code, class_for_status, error_from_payload
from bot.llm.retry import backoff_delay, parse_retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, 0.01), (-3.0, 0.01), (0.005, 0.01), (0.7, 0.7), (1.0, 1.0), (1.5, 1.0), (2.0, 1.0)],
)
def test_clamp_temperature(value, expected):
    assert clamp_temperature(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(0.0, 0.01), (0.95, 0.95), (1.2, 1.0)])
def test_clamp_top_p(value, expected):
    assert clamp_top_p(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (-5, 1), (1, 1), (600, 600), (9999, 2048)])
def test_clamp_max_tokens(value, expected):
    assert clamp_max_tokens(value) == expected
    assert MAX_OUTPUT_TOKENS == 2048


def test_nan_and_infinity_never_leak_through():
    assert clamp_temperature(math.nan) == 1.0
    assert clamp_top_p(math.nan) == 0.95
    assert clamp_temperature(math.inf) == 1.0
    assert clamp_temperature(-math.inf) == 0.01


def test_sampling_params_clamped_and_clamp():
    assert SamplingParams.clamped(0, 3, 5000) == SamplingParams(0.01, 1.0, 2048)
    valid = SamplingParams(0.8, 0.9, 400)
    assert valid.clamp() is valid
    assert SamplingParams(2.0, 0.9, 400).clamp() == SamplingParams(1.0, 0.9, 400)


def test_backoff_delay_doubles_up_to_the_cap_with_equal_jitter():
    low = [backoff_delay(n, base=0.5, cap=4.0, rng=lambda: 0.0) for n in range(1, 7)]
    high = [backoff_delay(n, base=0.5, cap=4.0, rng=lambda: 1.0) for n in range(1, 7)]
    assert low == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert high == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),
    ],
)
def test_parse_retry_after(headers, expected):
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert parse_retry_after(headers, now=now) == expected


@pytest.mark.parametrize(
    ("status", "moderation", "cls"),
    [
        (401, False, AuthError),
        (403, False, AuthError),
        (403, True, InputFilteredError),
        (408, False, LLMTimeoutError),
        (429, False, RateLimitedError),
        (503, False, RateLimitedError),
        (504, False, TransientError),
    ],
)
def test_class_for_status(status, moderation, cls):
    assert class_for_status(status, moderation=moderation) is cls


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (1039, RateLimitedError),
        (1041, RateLimitedError),
        (9999, TransientError),
        ("429", RateLimitedError),
        ("Rate_Limit_Exceeded", RateLimitedError),
        ("server_error", TransientError),
        ("something_new", TransientError),
        (None, TransientError),
        (True, TransientError),
    ],
)
def test_class_for_code(code, cls):
    assert class_for_code(code) is cls


def test_payload_without_error_is_none():
    chunk = {"base_resp": {"status_code": 0}, "input_sensitive": False, "choices": []}
    assert error_from_payload(chunk, provider="minimax", redact=str) is None


def test_retry_hint_from_error_metadata():
    payload = {"error": {"code": 429, "message": "busy", "metadata": {"retry_after": 4}}}
    error = error_from_payload(payload, provider="openrouter", redact=str, status=429)
    assert isinstance(error, RateLimitedError) and error.retry_after == 4.0


def test_error_tree_and_retryable():
    assert issubclass(InputFilteredError, ContentFilteredError)
    for cls in (RateLimitedError, TransientError, LLMTimeoutError, StreamInterruptedError):
        assert issubclass(cls, RetryableError)
        assert cls("x").retryable
        assert not cls("x", partial=True).retryable
    assert not AuthError("x").retryable


def test_error_str_and_repr_show_safe_fields():
    error = RateLimitedError("OpenRouter HTTP 429: busy", provider="openrouter", status=429)
    assert str(error) == "OpenRouter HTTP 429: busy"
    assert repr(error).startswith("RateLimitedError('OpenRouter HTTP 429: busy'")
    assert isinstance(error, LLMError)


def test_public_api_is_exported():
    for name in bot.llm.__all__:
        assert hasattr(bot.llm, name), name


async def test_constructor_validation(http):
    with pytest.raises(ValueError, match="provider"):
        LLMClient(http, provider="openai", api_key="k")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="api_key"):
        LLMClient(http, provider="minimax", api_key="   ")
    with pytest.raises(ValueError, match="max_attempts"):
        LLMClient(http, provider="minimax", api_key="k", max_attempts=0)


async def test_default_endpoints(http):
    openrouter = LLMClient(http, provider="openrouter", api_key="secret-key-123")
    minimax = LLMClient(http, provider="minimax", api_key="secret-key-123")
    mainland = LLMClient(
        http, provider="minimax", api_key="secret-key-123", base_url="https://api.minimaxi.com"
    )
    assert openrouter.url == "https://openrouter.ai/api/v1/chat/completions"
    assert openrouter.model == "minimax/minimax-m2-her"
    assert minimax.url == "https://api.minimax.io/v1/text/chatcompletion_v2"
    assert minimax.model == "M2-her"
    assert mainland.url == "https://api.minimaxi.com/v1/text/chatcompletion_v2"
    assert "secret-key-123" not in repr(openrouter)
