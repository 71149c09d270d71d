"""Retries before the first token: exact backoff, Retry-After, limits and what never retries."""

import email.utils
import time

import pytest

from bot.llm import (
    AuthError,
    BadRequestError,
    InputFilteredError,
    QuotaExceededError,
    RateLimitedError,
    TransientError,
)
from tests.fakes.model_server import HttpError, ProviderError, Reply
from tests.llm.helpers import FakeClock, chat, collect, make_client


def retrying_client(http, fm, provider="openrouter", **kwargs):
    clock = FakeClock()
    options = {
        "sleep": clock.sleep,
        "monotonic": clock.monotonic,
        "backoff_base": 0.5,
        "backoff_cap": 8.0,
    }
    options.update(kwargs)
    return make_client(http, fm, provider, **options), clock


async def test_exponential_backoff_with_jitter(fm, http):
    fm.script(HttpError(500), HttpError(502), HttpError(503), Reply(text="Finally."))
    client, clock = retrying_client(http, fm, max_attempts=4, rng=lambda: 0.5)

    deltas, result, error = await collect(chat(client))

    assert error is None and "".join(deltas) == "Finally."
    assert result is not None and result.attempts == 4
    # ceiling 0.5, 1, 2 -> equal jitter with rng 0.5 -> three quarters of each ceiling
    assert clock.sleeps == [0.375, 0.75, 1.5]


async def test_backoff_is_capped(fm, http):
    fm.script(*[HttpError(500)] * 5, Reply(text="ok"))
    client, clock = retrying_client(http, fm, max_attempts=6, rng=lambda: 1.0, backoff_cap=2.0)

    _, result, _ = await collect(chat(client))

    assert result is not None
    assert clock.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]


async def test_jitter_uses_the_injected_random_source(fm, http):
    values = iter([0.0, 1.0])
    fm.script(HttpError(500), HttpError(500), Reply(text="ok"))
    client, clock = retrying_client(http, fm, rng=lambda: next(values))

    await collect(chat(client))

    assert clock.sleeps == [0.25, 1.0]


async def test_retry_after_header_is_honoured(fm, http):
    fm.script(HttpError(429, "slow down", retry_after=3), Reply(text="ok"))
    client, clock = retrying_client(http, fm)

    _, result, error = await collect(chat(client))

    assert error is None and result is not None and result.attempts == 2
    assert clock.sleeps == [3.0]


async def test_retry_after_shorter_than_backoff_keeps_the_backoff(fm, http):
    fm.script(HttpError(429, retry_after=0.1), Reply(text="ok"))
    client, clock = retrying_client(http, fm, rng=lambda: 0.5)

    await collect(chat(client))

    assert clock.sleeps == [0.375]


async def test_retry_after_http_date(fm, http):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    fm.script(HttpError(503, retry_after=when), Reply(text="ok"))
    client, clock = retrying_client(http, fm)

    _, result, _ = await collect(chat(client))

    assert result is not None
    assert len(clock.sleeps) == 1 and 28 <= clock.sleeps[0] <= 30


async def test_retry_hint_in_minimax_http_200_error(fm, http):
    fm.script(ProviderError(1002, "rate limit", retry_after=2), Reply(text="ok"))
    client, clock = retrying_client(http, fm, "minimax")

    _, result, _ = await collect(chat(client))

    assert result is not None and clock.sleeps == [2.0]


async def test_retry_after_beyond_the_deadline_is_not_waited_for(fm, http):
    fm.script(HttpError(429, retry_after=600), Reply(text="never"))
    client, clock = retrying_client(http, fm, total_timeout=120)

    _, result, error = await collect(chat(client))

    assert result is None
    assert isinstance(error, RateLimitedError) and error.retry_after == 600
    assert clock.sleeps == []
    assert fm.pending() == 1


async def test_gives_up_after_max_attempts(fm, http):
    fm.script(*[HttpError(502)] * 3, Reply(text="never"))
    client, clock = retrying_client(http, fm, max_attempts=3)

    _, result, error = await collect(chat(client))

    assert result is None and isinstance(error, TransientError) and error.status == 502
    assert len(fm.requests) == 3 and len(clock.sleeps) == 2


async def test_max_attempts_one_means_no_retry(fm, http):
    fm.script(HttpError(429, retry_after=1), Reply(text="never"))
    client, clock = retrying_client(http, fm, max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, RateLimitedError)
    assert len(fm.requests) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    ("item", "cls"),
    [
        (HttpError(401, "bad key"), AuthError),
        (HttpError(402, "no credits"), QuotaExceededError),
        (HttpError(400, "bad request"), BadRequestError),
        (HttpError(403, "flagged", metadata={"reasons": ["x"]}), InputFilteredError),
    ],
)
async def test_never_retries_what_cannot_succeed(fm, http, item, cls):
    fm.script(item, Reply(text="never"))
    client, clock = retrying_client(http, fm, max_attempts=5)

    _, _, error = await collect(chat(client))

    assert type(error) is cls and not error.retryable
    assert len(fm.requests) == 1 and clock.sleeps == []


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
async def test_never_starts_over_after_the_first_token(fm, http, provider):
    fm.script(Reply(chunks=("Half", " a"), disconnect_after=1), Reply(text="Whole reply."))
    client, clock = retrying_client(http, fm, provider, max_attempts=5)

    deltas, result, error = await collect(chat(client))

    assert deltas == ["Half"] and result is None
    assert error is not None and error.partial and not error.retryable
    assert len(fm.requests) == 1 and clock.sleeps == []


async def test_minimax_http_200_rate_limit_is_retried(fm, http):
    fm.script(ProviderError(1002, "rate limit", sse=False), Reply(text="ok"), endpoint="minimax")
    client, clock = retrying_client(http, fm, "minimax")

    deltas, result, _ = await collect(chat(client))

    assert "".join(deltas) == "ok" and result is not None and result.attempts == 2
    assert clock.sleeps == [0.375]
