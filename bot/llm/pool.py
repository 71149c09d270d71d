"""The HTTP transport for model requests: several small connection pools instead of one big one.

httpcore's pool looks over every connection it holds, for every idle one, each time a request
starts or ends (its clean-up of surplus idle connections counts them in a nested loop). With a
hundred kept-alive connections to one provider that is some 10,000 checks per request, about
2 ms of CPU per reply when a hundred channels answer at once. Spread over pools of at most
`per_shard` connections, the same burst costs a few hundred checks per request; requests take
turns through the pools, so each keeps its share of warm connections.
"""

from __future__ import annotations

import itertools
import math

import httpx


class ShardedTransport(httpx.AsyncBaseTransport):
    """Sends each request through the next of several `httpx.AsyncHTTPTransport` pools."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float,
        per_shard: int = 16,
    ) -> None:
        if max_connections < 1 or per_shard < 1:
            raise ValueError("max_connections and per_shard must be at least 1")
        count = math.ceil(max_connections / per_shard)
        limits = httpx.Limits(
            max_connections=math.ceil(max_connections / count),
            max_keepalive_connections=math.ceil(max_connections / count),
            keepalive_expiry=keepalive_expiry,
        )
        # One TLS context for all pools: loading the CA bundle costs ~15 ms each time.
        tls = httpx.create_ssl_context()
        self.shards = tuple(
            httpx.AsyncHTTPTransport(verify=tls, limits=limits) for _ in range(count)
        )
        """The pools, in the order requests take them."""
        self._next = itertools.cycle(self.shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the next pool in turn."""
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        """Close every pool and its connections."""
        for shard in self.shards:
            await shard.aclose()


def model_http_client(
    *, max_connections: int, keepalive_expiry: float, per_shard: int = 16
) -> httpx.AsyncClient:
    """The shared client for model requests, its connections spread over a `ShardedTransport`.

    The transport is mounted for every URL rather than passed as the client's transport, so
    proxies from the environment (HTTPS_PROXY, NO_PROXY) still apply.
    """
    transport = ShardedTransport(
        max_connections=max_connections, keepalive_expiry=keepalive_expiry, per_shard=per_shard
    )
    return httpx.AsyncClient(mounts={"all://": transport})
