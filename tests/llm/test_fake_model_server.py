"""The fake model server's own behaviours: auth, validation, scripting, recording, load."""

import asyncio
import json
import time

import pytest
from httpx_sse import aconnect_sse

from bot.llm import SamplingParams, StreamInterruptedError
from tests.fakes.model_server import FakeModelServer, HttpError, ProviderError, Reply
from tests.llm.helpers import API_KEY, chat, collect, make_client

GOOD = {"Authorization": f"Bearer {API_KEY}"}
BODY = {"model": "M2-her", "messages": [{"role": "user", "content": "hi"}], "stream": True}


async def events(http, url, body=BODY, headers=GOOD):
    """Raw SSE events (data strings) and the response headers from the fake."""
    async with aconnect_sse(http, "POST", url, json=body, headers=headers) as source:
        data = [event.data async for event in source.aiter_sse()]
        return data, source.response.headers


async def test_openrouter_wire_format(fm, http):
    fm.script(Reply(chunks=("Hi", "!"), prompt_tokens=5, cost=0.001))
    raw = b""
    async with http.stream("POST", fm.url + "/chat/completions", json=BODY, headers=GOOD) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        generation = r.headers["x-generation-id"]
        async for piece in r.aiter_bytes():
            raw += piece

    assert raw.startswith(b": OPENROUTER PROCESSING\n\n")
    assert raw.endswith(b"data: [DONE]\n\n")
    chunks = [json.loads(line[6:]) for line in raw.split(b"\n\n") if line.startswith(b"data: {")]
    assert [c["choices"][0]["delta"]["content"] for c in chunks[:2]] == ["Hi", "!"]
    assert chunks[2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[3]["choices"] == [] and chunks[3]["usage"]["cost"] == 0.001
    assert chunks[3]["usage"]["prompt_tokens"] == 5
    assert {c["id"] for c in chunks} == {generation}


async def test_minimax_wire_format(fm, http):
    fm.script(Reply(chunks=("Hi", "!"), completion_tokens=2))
    body = {**BODY, "messages": [{"role": "system", "name": "Mira", "content": "x"}]}
    data, headers = await events(http, fm.url + "/v1/text/chatcompletion_v2", body)

    assert "x-generation-id" not in headers
    chunks = [json.loads(d) for d in data]
    assert [c["object"] for c in chunks] == ["chat.completion.chunk"] * 2 + ["chat.completion"]
    assert chunks[0]["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "Hi",
        "name": "Mira",
    }
    assert chunks[0]["choices"][0]["finish_reason"] is None
    assert chunks[1]["choices"][0]["finish_reason"] == "stop"
    final = chunks[2]
    assert final["choices"][0]["message"]["content"] == "Hi!"
    assert final["usage"]["completion_tokens"] == 2
    assert final["base_resp"] == {"status_code": 0, "status_msg": ""}


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/chat/completions", 401, {"error": {"code": 401}}),
        ("/v1/text/chatcompletion_v2", 200, {"base_resp": {"status_code": 1004}}),
    ],
)
async def test_wrong_key_is_rejected_like_the_provider(fm, http, path, status, expected):
    response = await http.post(fm.url + path, json=BODY, headers={"Authorization": "Bearer no"})

    assert response.status_code == status
    payload = response.json()
    key = next(iter(expected))
    for field, value in expected[key].items():
        assert payload[key][field] == value
    assert not fm.requests[0].authorized
    assert fm.requests[0].item is None


async def test_auth_can_be_turned_off(http):
    async with FakeModelServer(check_auth=False) as server:
        data, _ = await events(http, server.url + "/v1/text/chatcompletion_v2", headers={})
    assert json.loads(data[-1])["choices"][0]["message"]["content"] == "Echo: hi"


async def test_recording_redacts_authorization_and_times_tokens(fm, http):
    fm.script(Reply(chunks=("a", "b", "c"), chunk_delay=0.02))
    client = make_client(http, fm, "openrouter")
    before = time.monotonic()

    await collect(chat(client))

    (request,) = fm.requests
    assert request.headers["Authorization"] == "<redacted>"
    assert API_KEY not in json.dumps(request.headers)
    assert before <= request.arrived_at <= request.first_token_at <= request.last_token_at
    assert request.last_token_at - request.first_token_at >= 0.03
    assert request.finished_at >= request.last_token_at
    assert request.roles == ["system", "user"]


async def test_endpoint_queue_before_global_queue_before_default(fm, http):
    fm.script(Reply(text="global"))
    fm.script(Reply(text="minimax only"), endpoint="minimax")
    minimax = make_client(http, fm, "minimax")
    openrouter = make_client(http, fm, "openrouter")

    first = await collect(chat(minimax))
    second = await collect(chat(minimax))
    third = await collect(chat(openrouter))

    assert [r[2] is None for r in (first, second, third)] == [True, True, True]
    assert first[1].text == "minimax only"
    assert second[1].text == "global"
    assert third[1].text == "Echo: A mug of cider, please."
    assert fm.pending() == fm.pending("minimax") == fm.pending("openrouter") == 0


async def test_configurable_default_reply(http):
    async with FakeModelServer(api_key=API_KEY, default_reply=Reply(text="Always this.")) as fm:
        _, result, _ = await collect(chat(make_client(http, fm, "openrouter")))
    assert result.text == "Always this."


async def test_minimax_rejects_out_of_range_params(fm, http):
    body = {**BODY, "temperature": 0, "max_completion_tokens": 5000}
    response = await http.post(fm.url + "/v1/text/chatcompletion_v2", json=body, headers=GOOD)

    assert response.json()["base_resp"]["status_code"] == 2013
    assert "temperature" in response.json()["base_resp"]["status_msg"]


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/chat/completions", lambda r: r.status_code == 400),
        ("/v1/text/chatcompletion_v2", lambda r: r.json()["base_resp"]["status_code"] == 2013),
    ],
)
async def test_rejects_roles_mode(http, path, check):
    body = {**BODY, "messages": [{"role": "group", "content": "scene"}, *BODY["messages"]]}
    async with FakeModelServer(api_key=API_KEY, rejects_roles=True) as fm:
        rejected = await http.post(fm.url + path, json=body, headers=GOOD)
        accepted = await http.post(fm.url + path, json=BODY, headers=GOOD)
    assert check(rejected)
    assert accepted.status_code == 200


async def test_http_error_carries_retry_after_and_custom_headers(fm, http):
    fm.script(HttpError(429, "busy", retry_after=5, headers={"X-Extra": "1"}))

    response = await http.post(fm.url + "/chat/completions", json=BODY, headers=GOOD)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "5"
    assert response.headers["x-extra"] == "1"
    assert response.json() == {"error": {"code": 429, "message": "busy"}}


async def test_minimax_provider_error_as_plain_json(fm, http):
    fm.script(ProviderError(1008, "insufficient balance", sse=False))

    response = await http.post(fm.url + "/v1/text/chatcompletion_v2", json=BODY, headers=GOOD)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["base_resp"] == {
        "status_code": 1008,
        "status_msg": "insufficient balance",
    }


async def test_first_byte_delay_and_stall_are_real_waits(fm, http):
    fm.script(Reply(chunks=("a", "b"), first_byte_delay=0.1, stall_after=1, stall_seconds=0.1))
    client = make_client(http, fm, "minimax")
    started = time.monotonic()

    _, result, _ = await collect(chat(client))

    request = fm.requests[0]
    assert result.text == "ab"
    assert request.first_token_at - started >= 0.1
    assert request.last_token_at - request.first_token_at >= 0.1


async def test_wait_for_requests(fm, http):
    client = make_client(http, fm, "openrouter")
    task = asyncio.create_task(collect(chat(client)))

    requests = await fm.wait_for_requests(1, timeout=2)
    await task

    assert len(requests) == 1
    with pytest.raises(TimeoutError):
        await fm.wait_for_requests(2, timeout=0.05)


async def test_hundred_concurrent_streams(fm, http):
    fm.default_reply = Reply(chunks=("one ", "two ", "three"), chunk_delay=0.01)
    clients = [make_client(http, fm, "openrouter"), make_client(http, fm, "minimax")]

    async with asyncio.timeout(5):
        results = await asyncio.gather(
            *(collect(chat(clients[i % 2], SamplingParams())) for i in range(100))
        )

    assert all(error is None for _, _, error in results)
    assert all(result.text == "one two three" for _, result, _ in results)
    assert len(fm.requests) == 100
    assert len({r.client_port for r in fm.requests}) == 100, "really concurrent connections"


async def test_close_does_not_wait_for_stalled_streams(http):
    fm = FakeModelServer(api_key=API_KEY)
    await fm.start()
    fm.script(Reply(chunks=("a", "b"), stall_after=1, stall_seconds=30))
    client = make_client(http, fm, "openrouter")
    stream = chat(client)
    assert await anext(stream) == "a"

    started = time.monotonic()
    await fm.close()
    with pytest.raises(StreamInterruptedError):
        await anext(stream)
    await stream.aclose()

    assert time.monotonic() - started < 2
