"""Every failure shape of both providers maps to the right error, before and mid-stream."""

import json
import logging

import pytest

from bot.llm import (
    AuthError,
    BadRequestError,
    InputFilteredError,
    InvisibleCharactersError,
    LLMTimeoutError,
    OutputFilteredError,
    PromptTooLongError,
    QuotaExceededError,
    RateLimitedError,
    StreamInterruptedError,
    TransientError,
)
from tests.fakes.model_server import FakeModelServer, HttpError, ProviderError, Reply
from tests.llm.helpers import API_KEY, chat, collect, make_client

BEFORE_FIRST_TOKEN = [
    # provider, scripted failure, error class, HTTP status, provider code
    ("openrouter", HttpError(400, "bad role"), BadRequestError, 400, 400),
    ("openrouter", HttpError(402, "no credits"), QuotaExceededError, 402, 402),
    ("openrouter", HttpError(403, "no access"), AuthError, 403, 403),
    (
        "openrouter",
        HttpError(403, "flagged", metadata={"reasons": ["violence"], "flagged_input": "x"}),
        InputFilteredError,
        403,
        403,
    ),
    ("openrouter", HttpError(404, "no such model"), BadRequestError, 404, 404),
    ("openrouter", HttpError(408, "timed out"), LLMTimeoutError, 408, 408),
    ("openrouter", HttpError(429, "slow down"), RateLimitedError, 429, 429),
    ("openrouter", HttpError(500, "oops"), TransientError, 500, 500),
    ("openrouter", HttpError(502, "model down"), TransientError, 502, 502),
    ("openrouter", HttpError(503, "no provider"), RateLimitedError, 503, 503),
    ("openrouter", ProviderError(502, "upstream failed"), TransientError, None, 502),
    ("openrouter", ProviderError("rate_limit", "busy"), RateLimitedError, None, "rate_limit"),
    ("openrouter", ProviderError(401, "bad key", sse=False), AuthError, None, 401),
    ("minimax", HttpError(500), TransientError, 500, "server_error"),
    ("minimax", HttpError(429, "rate limit", code=1002), RateLimitedError, 429, 1002),
    ("minimax", HttpError(400, "invalid params", code=2013), BadRequestError, 400, 2013),
    ("minimax", ProviderError(1000, "unknown error"), TransientError, None, 1000),
    ("minimax", ProviderError(1001, "request timeout"), LLMTimeoutError, None, 1001),
    ("minimax", ProviderError(1002, "rate limit"), RateLimitedError, None, 1002),
    ("minimax", ProviderError(2045, "rate growth limit"), RateLimitedError, None, 2045),
    ("minimax", ProviderError(1008, "insufficient balance"), QuotaExceededError, None, 1008),
    ("minimax", ProviderError(2056, "usage limit", sse=False), QuotaExceededError, None, 2056),
    ("minimax", ProviderError(2049, "invalid api key", sse=False), AuthError, None, 2049),
    ("minimax", ProviderError(2013, "invalid params", sse=False), BadRequestError, None, 2013),
    ("minimax", ProviderError(1042, "invisible chars"), InvisibleCharactersError, None, 1042),
    (
        "openrouter",
        HttpError(400, "This model's maximum context length is 65536 tokens"),
        PromptTooLongError,
        400,
        400,
    ),
    ("openrouter", HttpError(413, "payload too large"), PromptTooLongError, 413, 413),
    (
        "minimax",
        ProviderError(2013, "invalid params, context length exceeded", sse=False),
        PromptTooLongError,
        None,
        2013,
    ),
    # An HTTP-200 JSON body served as an event stream is the error it holds, not a drop.
    ("minimax", ProviderError(1002, "rate limit", bare=True), RateLimitedError, None, 1002),
    (
        "minimax",
        ProviderError(1027, "output new_sensitive", bare=True),
        OutputFilteredError,
        None,
        1027,
    ),
    (
        "minimax",
        ProviderError(1026, "input new_sensitive", input_sensitive=True),
        InputFilteredError,
        None,
        1026,
    ),
    ("minimax", ProviderError(1027, "output new_sensitive"), OutputFilteredError, None, 1027),
]


@pytest.mark.parametrize(("provider", "item", "cls", "status", "code"), BEFORE_FIRST_TOKEN)
async def test_errors_before_the_first_token(fm, http, provider, item, cls, status, code):
    fm.script(item)
    client = make_client(http, fm, provider, max_attempts=1)

    deltas, result, error = await collect(chat(client))

    assert deltas == [] and result is None
    assert type(error) is cls
    assert error.partial is False
    assert error.provider == provider
    assert (error.status, error.code) == (status, code)
    assert API_KEY not in str(error) and API_KEY not in repr(error)


MID_STREAM = [
    ("openrouter", Reply(chunks=("a", "b", "c"), error_after=2), TransientError, "server_error"),
    (
        "openrouter",
        Reply(chunks=("a", "b", "c"), error_after=2, error_code=429),
        RateLimitedError,
        429,
    ),
    ("minimax", Reply(chunks=("a", "b", "c"), error_after=2), TransientError, 1000),
    (
        "minimax",
        Reply(chunks=("a", "b", "c"), error_after=2, error_code=1027),
        OutputFilteredError,
        1027,
    ),
]


@pytest.mark.parametrize(("provider", "item", "cls", "code"), MID_STREAM)
async def test_errors_mid_stream_keep_the_partial_flag(fm, http, provider, item, cls, code):
    fm.script(item)
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert deltas == ["a", "b"] and result is None
    assert type(error) is cls
    assert error.partial is True
    assert error.code == code
    assert error.request_id is not None
    assert len(fm.requests) == 1, "never starts over after text was shown"


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
async def test_error_event_as_first_event_is_retryable(fm, http, provider):
    fm.script(Reply(chunks=("a",), error_after=0), Reply(text="Recovered."))
    client = make_client(http, fm, provider, sleep=_no_sleep)

    deltas, result, error = await collect(chat(client))

    assert error is None and "".join(deltas) == "Recovered."
    assert result is not None and result.attempts == 2


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
@pytest.mark.parametrize("done", [True, False])
async def test_eof_without_finish_reason_is_interrupted(fm, http, provider, done):
    fm.script(Reply(chunks=("Once upon", " a time"), finish_reason=None, done=done))
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert deltas == ["Once upon", " a time"] and result is None
    assert isinstance(error, StreamInterruptedError)
    assert error.partial is True


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
async def test_abrupt_disconnect_is_interrupted(fm, http, provider):
    fm.script(Reply(chunks=("a", "b", "c"), disconnect_after=1))
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert deltas == ["a"] and result is None
    assert isinstance(error, StreamInterruptedError) and error.partial is True


async def test_disconnect_before_any_text_is_interrupted_but_not_partial(fm, http):
    fm.script(Reply(chunks=("a",), disconnect_after=0))
    client = make_client(http, fm, "openrouter", max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, StreamInterruptedError)
    assert error.partial is False and error.retryable


async def test_refused_connection_is_transient(http):
    async with FakeModelServer() as server:
        dead = server.url
    client = make_client(http, server, "openrouter", base_url=dead, max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, TransientError) and error.partial is False


async def test_non_json_error_body(fm, http):
    fm.script(HttpError(502, body="<html>Bad Gateway</html>", content_type="text/html"))
    client = make_client(http, fm, "openrouter", max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, TransientError)
    assert error.status == 502
    assert "Bad Gateway" in str(error)


async def test_unexpected_json_body_on_200_is_transient(fm, http):
    fm.script(HttpError(200, body='{"choices": []}'))
    client = make_client(http, fm, "minimax", max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, TransientError)
    assert "expected an event stream" in str(error)


async def test_malformed_chunk_is_an_error(fm, http):
    fm.script(HttpError(200, body=b"data: {not json\n\n", content_type="text/event-stream"))
    client = make_client(http, fm, "openrouter", max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, TransientError) and "malformed" in str(error)


async def test_idle_timeout_mid_stream(fm, http):
    fm.script(Reply(chunks=("a", "b"), stall_after=1, stall_seconds=3))
    client = make_client(http, fm, "minimax", idle_timeout=0.2)

    deltas, _, error = await collect(chat(client))

    assert deltas == ["a"]
    assert isinstance(error, LLMTimeoutError)
    assert (error.phase, error.partial) == ("idle", True)


async def test_idle_timeout_waiting_for_headers(fm, http):
    fm.script(Reply(text="late", first_byte_delay=3))
    client = make_client(http, fm, "openrouter", idle_timeout=0.2, max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, LLMTimeoutError)
    assert (error.phase, error.partial) == ("idle", False)


async def test_total_timeout_caps_a_trickling_reply(fm, http):
    fm.script(Reply(chunks=tuple("abcdefghijklmnopqrstuvwxyz"), chunk_delay=0.05))
    client = make_client(http, fm, "openrouter", idle_timeout=1, total_timeout=0.3)

    deltas, result, error = await collect(chat(client))

    assert 0 < len(deltas) < 26 and result is None
    assert isinstance(error, LLMTimeoutError)
    assert (error.phase, error.partial) == ("total", True)


async def test_total_timeout_before_first_token_is_not_retried(fm, http):
    fm.script(Reply(text="late", keepalives=20, keepalive_interval=0.05))
    client = make_client(http, fm, "openrouter", idle_timeout=1, total_timeout=0.2)

    _, _, error = await collect(chat(client))

    assert isinstance(error, LLMTimeoutError)
    assert (error.phase, error.partial) == ("total", False)
    assert len(fm.requests) == 1


async def test_stall_after_finish_reason_still_completes(fm, http):
    # The stream goes silent after the finish chunk: the reply is complete, so no error.
    fm.script(Reply(text="Done.", stall_after=2, stall_seconds=3, chunks=("Do", "ne.")))
    client = make_client(http, fm, "minimax", idle_timeout=0.2)

    deltas, result, error = await collect(chat(client))

    assert error is None and "".join(deltas) == "Done."
    assert result is not None and result.finish_reason == "stop"


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
async def test_wrong_key_is_auth_error_and_key_is_redacted(http, provider, caplog):
    caplog.set_level(logging.DEBUG)
    async with FakeModelServer(api_key="the-right-key") as server:
        client = make_client(http, server, provider)

        _, _, error = await collect(chat(client))

    assert isinstance(error, AuthError)
    assert error.code == (401 if provider == "openrouter" else 1004)
    assert len(server.requests) == 1, "auth errors are never retried"
    assert "invalid credentials" in str(error), "the provider's message is kept"
    assert API_KEY not in str(error) and API_KEY not in repr(error)
    assert API_KEY not in caplog.text


async def test_key_in_a_mid_stream_message_is_redacted(fm, http, caplog):
    caplog.set_level(logging.DEBUG)
    fm.script(Reply(chunks=("a",), error_after=1, error_message=f"upstream saw key {API_KEY}"))
    client = make_client(http, fm, "openrouter")

    _, _, error = await collect(chat(client))

    assert isinstance(error, TransientError)
    assert "***" in str(error)
    assert API_KEY not in str(error) and API_KEY not in repr(error)


async def test_logs_never_contain_the_key(fm, http, caplog):
    caplog.set_level(logging.DEBUG)
    fm.script(
        HttpError(429, f"slow down {API_KEY}", retry_after=0),
        HttpError(500, f"oops {API_KEY}"),
        Reply(text="Fine."),
    )
    client = make_client(http, fm, "openrouter", sleep=_no_sleep)

    _, result, error = await collect(chat(client))

    assert error is None and result is not None and result.attempts == 3
    assert "retrying" in caplog.text
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in repr(record.args)


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.mark.parametrize(
    ("choice_extra", "cls"),
    [
        ({}, TransientError),
        ({"error": {"code": 429, "message": "slow"}}, RateLimitedError),
    ],
)
async def test_finish_reason_error_with_or_without_error_object(fm, http, choice_extra, cls):
    first = {"id": "gen-raw", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
    broken = {
        "id": "gen-raw",
        "choices": [
            {"index": 0, "delta": {"content": ""}, "finish_reason": "error", **choice_extra}
        ],
    }
    body = f"data: {json.dumps(first)}\n\ndata: {json.dumps(broken)}\n\n".encode()
    fm.script(HttpError(200, body=body, content_type="text/event-stream"))
    client = make_client(http, fm, "openrouter")

    deltas, result, error = await collect(chat(client))

    assert deltas == ["Hi"] and result is None
    assert type(error) is cls and error.partial and error.request_id == "gen-raw"


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
async def test_a_flag_mid_reply_delivers_the_text_and_records_the_flag(fm, http, provider):
    fm.script(Reply(chunks=("a", "b", "c"), output_sensitive_after=2))
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert error is None and deltas == ["a", "b"]
    assert result is not None and result.finish_reason == "content_filter"
    assert result.flags.output_type == (1 if provider == "minimax" else 0)


@pytest.mark.parametrize(
    ("item", "ledger"),
    [
        (Reply(text="A dark tale.", output_flag=6), "output_sensitive:6"),
        (Reply(text="A dark tale.", input_flag=5), "input_sensitive:5"),
        (
            Reply(text="A dark tale.", input_flag=2, output_flag=2),
            "input_sensitive:2,output_sensitive:2",
        ),
    ],
)
async def test_sensitivity_flags_with_text_are_information_not_errors(
    fm, http, item, ledger, caplog
):
    caplog.set_level(logging.WARNING)
    fm.script(item)
    client = make_client(http, fm, "minimax")

    deltas, result, error = await collect(chat(client))

    assert error is None and "".join(deltas) == "A dark tale."
    assert result is not None and result.finish_reason == "stop"
    assert result.flags.ledger() == ledger
    assert "flagged" in caplog.text and "the text was delivered" in caplog.text
    assert "code 6" not in caplog.text


@pytest.mark.parametrize(
    ("item", "cls"),
    [
        (Reply(text="", chunks=(), output_flag=1), OutputFilteredError),
        (Reply(text="", chunks=(), input_flag=1), InputFilteredError),
    ],
)
async def test_a_flag_with_no_text_is_a_block(fm, http, item, cls):
    fm.script(item)
    client = make_client(http, fm, "minimax", max_attempts=1)

    deltas, result, error = await collect(chat(client))

    assert deltas == [] and result is None
    assert type(error) is cls and error.partial is False
    assert "severe violation" in str(error)


async def test_openrouter_content_filter_without_text_is_a_block(fm, http):
    fm.script(Reply(chunks=("a",), output_sensitive_after=0))
    client = make_client(http, fm, "openrouter", max_attempts=1)

    _, _, error = await collect(chat(client))

    assert isinstance(error, OutputFilteredError) and not error.partial
