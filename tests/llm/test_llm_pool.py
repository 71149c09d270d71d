"""The model requests' HTTP client: several small pools, warm connections kept, proxies honoured."""

import asyncio

import pytest

from bot.llm import LLMClient
from bot.llm.pool import ShardedTransport, model_http_client
from tests.fakes.model_server import Reply
from tests.llm.helpers import API_KEY, chat, collect, make_client


def test_pools_cover_the_connection_limit():
    transport = ShardedTransport(max_connections=200, keepalive_expiry=30.0, per_shard=16)

    assert len(transport.shards) == 13


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        ShardedTransport(max_connections=0, keepalive_expiry=30.0)


async def test_concurrent_requests_open_and_then_reuse_a_connection_each(fm):
    # Three pools of two: six requests at once need six connections, none waits for another.
    async with model_http_client(max_connections=6, keepalive_expiry=30.0, per_shard=2) as http:
        client = make_client(http, fm, "openrouter")

        async def burst() -> list[int]:
            fm.script(*(Reply(text=f"Line {n}.", first_byte_delay=0.2) for n in range(6)))
            before = len(fm.requests)
            results = await asyncio.gather(*(collect(chat(client)) for _ in range(6)))
            assert all(error is None and result is not None for _, result, error in results)
            return [r.client_port for r in fm.requests[before:] if r.client_port is not None]

        first = await burst()
        second = await burst()

    assert len(set(first)) == 6
    assert set(second) == set(first)


async def test_a_proxy_from_the_environment_carries_the_requests(fm, monkeypatch):
    # The fake model server stands in for an HTTP proxy: a request for a host that does not
    # resolve reaches it only if the client honours HTTP_PROXY.
    monkeypatch.setenv("HTTP_PROXY", fm.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    fm.script(Reply(text="Through the proxy."))
    async with model_http_client(max_connections=4, keepalive_expiry=5.0) as http:
        client = LLMClient(
            http, provider="openrouter", api_key=API_KEY, base_url="http://model.invalid"
        )
        deltas, result, error = await collect(chat(client))

    assert error is None and result is not None
    assert "".join(deltas) == "Through the proxy."
    assert fm.requests[-1].headers["Host"] == "model.invalid"
