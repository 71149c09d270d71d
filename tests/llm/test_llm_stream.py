"""LLMClient happy paths against the fake server: text, usage, finish reasons, request shape."""

import asyncio
import json
import time

import pytest

from bot.llm import SamplingParams
from tests.fakes.model_server import HttpError, Reply
from tests.llm.helpers import API_KEY, MESSAGES, chat, collect, make_client

PROVIDERS = ["openrouter", "minimax"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_streams_exact_text_then_one_result(fm, http, provider):
    fm.script(Reply(chunks=("Evening", ", tra", "veller", ". Cider's ", "warm.")))
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert error is None
    assert deltas == ["Evening", ", tra", "veller", ". Cider's ", "warm."]
    assert result is not None
    assert result.text == "Evening, traveller. Cider's warm."
    assert result.finish_reason == "stop"
    assert not result.truncated
    assert result.attempts == 1


async def test_minimax_final_aggregate_is_not_appended(fm, http):
    fm.script(Reply(text="Only once, please."), endpoint="minimax")
    client = make_client(http, fm, "minimax")

    deltas, result, _ = await collect(chat(client))

    assert "".join(deltas) == "Only once, please."
    assert result is not None and result.text == "Only once, please."


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_usage_and_request_id(fm, http, provider):
    fm.script(Reply(text="Hi.", prompt_tokens=321, completion_tokens=7, cached_tokens=300))
    client = make_client(http, fm, provider)

    _, result, _ = await collect(chat(client))

    assert result is not None and result.usage is not None
    assert result.usage.prompt_tokens == 321
    assert result.usage.completion_tokens == 7
    assert result.usage.cached_tokens == 300
    assert result.usage.total_tokens == 328
    if provider == "openrouter":
        assert result.usage.cost_usd == pytest.approx(0.00042)
        assert result.request_id == "gen-fake-000001"
    else:
        assert result.usage.cost_usd is None
        assert result.request_id is not None and result.request_id.startswith("0fake")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_finish_reason_length(fm, http, provider):
    fm.script(Reply(text="And then the dragon", finish_reason="length"))
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert error is None
    assert "".join(deltas) == "And then the dragon"
    assert result is not None and result.finish_reason == "length" and result.truncated


async def test_keepalive_comments_are_skipped_and_keep_the_stream_alive(fm, http):
    # Comments 0.05 s apart for 0.2 s: longer than the idle timeout, never idle for it.
    fm.script(Reply(text="Still here.", keepalives=4, keepalive_interval=0.05))
    client = make_client(http, fm, "openrouter", idle_timeout=0.15)

    deltas, result, error = await collect(chat(client))

    assert error is None
    assert "".join(deltas) == "Still here."
    assert result is not None


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("done", [True, False])
async def test_done_sentinel_is_optional(fm, http, provider, done):
    fm.script(Reply(text="Either way.", done=done))
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert error is None
    assert "".join(deltas) == "Either way."
    assert result is not None and result.finish_reason == "stop"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_empty_reply_still_finishes(fm, http, provider):
    fm.script(Reply(text=""))
    client = make_client(http, fm, provider)

    deltas, result, error = await collect(chat(client))

    assert (deltas, error) == ([], None)
    assert result is not None and result.text == "" and result.finish_reason == "stop"


async def test_openrouter_request_shape(fm, http):
    client = make_client(
        http, fm, "openrouter", referer="https://example.org/ensemble", title="Ens"
    )

    await collect(chat(client, SamplingParams(temperature=0.7, top_p=0.9, max_tokens=300)))

    (request,) = fm.requests
    assert request.path == "/chat/completions"
    assert request.authorized
    assert request.headers["HTTP-Referer"] == "https://example.org/ensemble"
    assert request.headers["X-OpenRouter-Title"] == "Ens"
    assert request.body == {
        "model": "minimax/minimax-m2-her",
        "messages": MESSAGES,
        "stream": True,
        "max_tokens": 300,
        "temperature": 0.7,
        "top_p": 0.9,
    }


async def test_minimax_request_shape(fm, http):
    client = make_client(http, fm, "minimax", referer="https://example.org", title="Ens")

    await collect(chat(client, SamplingParams(temperature=1.0, top_p=0.95, max_tokens=2048)))

    (request,) = fm.requests
    assert request.path == "/v1/text/chatcompletion_v2"
    assert request.authorized
    assert "HTTP-Referer" not in request.headers
    assert "X-OpenRouter-Title" not in request.headers
    assert request.body == {
        "model": "M2-her",
        "messages": MESSAGES,
        "stream": True,
        "max_completion_tokens": 2048,
        "temperature": 1.0,
        "top_p": 0.95,
    }


async def test_custom_model_and_trailing_slash_in_base_url(fm, http):
    client = make_client(http, fm, "minimax", base_url=fm.base_url_minimax + "/", model="M2-her-x")

    _, result, error = await collect(chat(client))

    assert error is None and result is not None
    assert client.url == fm.url + "/v1/text/chatcompletion_v2"
    assert fm.requests[0].body["model"] == "M2-her-x"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_out_of_range_sampling_is_clamped_before_sending(fm, http, provider):
    # The fake MiniMax rejects temperature 0 with 2013, like the real one.
    client = make_client(http, fm, provider)

    _, result, error = await collect(chat(client, SamplingParams(0.0, 1.7, 9000)))

    assert error is None and result is not None
    body = fm.requests[0].body
    tokens = body["max_tokens" if provider == "openrouter" else "max_completion_tokens"]
    assert (body["temperature"], body["top_p"], tokens) == (0.01, 1.0, 2048)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_pooled_connection_is_reused(fm, http, provider):
    client = make_client(http, fm, provider)

    for _ in range(3):
        _, result, _ = await collect(chat(client))
        assert result is not None

    ports = {request.client_port for request in fm.requests}
    assert len(ports) == 1


async def test_stopping_early_closes_the_stream(fm, http):
    fm.script(Reply(chunks=("a", "b", "c", "d"), chunk_delay=0.05))
    client = make_client(http, fm, "openrouter")

    stream = chat(client)
    assert await anext(stream) == "a"
    await stream.aclose()

    async with asyncio.timeout(2):
        while fm.requests[0].finished_at is None:
            await asyncio.sleep(0.01)
    assert fm.requests[0].client_gone


async def test_time_to_request_is_small(fm, http):
    client = make_client(http, fm, "openrouter")
    await collect(chat(client))  # warm the pool

    started = time.monotonic()
    _, result, _ = await collect(chat(client))

    assert result is not None
    # Loose bound so CI noise cannot flake it; the benchmark measures the real figure.
    assert fm.requests[-1].arrived_at - started < 0.25


async def test_api_key_is_sent_as_bearer_and_not_in_repr(fm, http):
    client = make_client(http, fm, "openrouter")

    await collect(chat(client))

    assert fm.requests[0].authorized
    assert API_KEY not in repr(client)
    assert API_KEY not in repr(fm.requests[0])


def _sse(*events: str, newline: str = "\n") -> bytes:
    return "".join(event + newline + newline for event in events).encode()


def _chunk(content: str, finish: str | None = None) -> str:
    delta = {"role": "assistant", "content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return "data: " + json.dumps({"id": "gen-raw", "choices": [choice]})


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
async def test_comments_between_chunks_and_crlf_framing(fm, http, newline):
    body = _sse(
        ": OPENROUTER PROCESSING",
        _chunk("Mid"),
        ": OPENROUTER PROCESSING",
        _chunk("dle", "stop"),
        "data: [DONE]",
        newline=newline,
    )
    fm.script(HttpError(200, body=body, content_type="text/event-stream"))
    client = make_client(http, fm, "openrouter")

    deltas, result, error = await collect(chat(client))

    assert error is None and deltas == ["Mid", "dle"]
    assert result is not None and result.request_id == "gen-raw" and result.usage is None


async def test_non_ascii_text_split_across_chunks(fm, http):
    fm.script(Reply(chunks=("Ça va, ", "ミラ", "? 🍺")))
    client = make_client(http, fm, "minimax")

    deltas, result, _ = await collect(chat(client))

    assert "".join(deltas) == "Ça va, ミラ? 🍺" == result.text
