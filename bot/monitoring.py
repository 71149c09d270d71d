"""Wiring the metrics to the running bot: Discord 429s, gauges sampled at scrape, health.

No Discord import: the bot is reached through the small `MonitoredBot` protocol.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Protocol

import aiohttp

from bot.memory import Store
from bot.metrics import Metrics, MetricsSink
from bot.metrics_server import Health, MetricsServer, check_health, serve_metrics

log = logging.getLogger(__name__)


class MonitoredBot(Protocol):
    """What monitoring needs from the Discord client."""

    def gateway_connected(self) -> bool:
        """Whether every gateway connection of this process is up."""
        ...

    def serves_guild(self, guild_id: int) -> bool:
        """Whether this process holds `guild_id` (its shard runs here)."""
        ...

    def queued_turns(self) -> int:
        """Turns waiting for their channel's current reply to finish."""
        ...


def discord_429_scope(path: str, headers: Mapping[str, str]) -> str:
    """Which limit a Discord 429 hit: "global", "webhook", "interaction" or "bot"."""
    if headers.get("X-RateLimit-Global", "").lower() == "true":
        return "global"
    if headers.get("X-RateLimit-Scope", "").lower() == "global":
        return "global"
    if "/webhooks/" in path:
        return "webhook"
    if "/interactions/" in path:
        return "interaction"
    return "bot"


def rate_limit_trace(metrics: MetricsSink) -> aiohttp.TraceConfig:
    """An aiohttp trace for discord.py's session that counts every 429 Discord answers.

    Every REST call, webhook and interaction response of the bot goes through that one
    session, so this sees each 429, including those discord.py then waits out and retries.
    """
    trace = aiohttp.TraceConfig()

    async def on_request_end(
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 429:
            metrics.discord_429(discord_429_scope(params.url.path, params.response.headers))

    trace.on_request_end.append(on_request_end)
    return trace


async def ping_database(store: Store) -> None:
    """A cheap round trip to the database: one indexed lookup of a channel that never exists.

    `Store` has no ping of its own yet; this reads no rows and takes no write lock.
    """
    await store.latest_id(0)


@asynccontextmanager
async def monitoring(
    metrics: MetricsSink, store: Store, bot: MonitoredBot, *, host: str, port: int | None
) -> AsyncIterator[MetricsServer | None]:
    """Serve `/metrics` and `/healthz` while the block runs, when metrics are on.

    Yields the server (its `.port` is the bound one), or None when METRICS_PORT is unset.
    """
    if port is None or not isinstance(metrics, Metrics):
        yield None
        return
    real: Metrics = metrics

    async def refresh_gauges() -> None:
        real.set_gateway_connected(bot.gateway_connected())
        real.set_queued_turns(bot.queued_turns())
        scenes = await store.list_enabled_channels()
        real.set_active_scenes(sum(1 for scene in scenes if bot.serves_guild(scene.guild_id)))

    async def health() -> Health:
        return await check_health(
            gateway_connected=bot.gateway_connected,
            ping_database=lambda: ping_database(store),
        )

    real.on_scrape(refresh_gauges)
    async with serve_metrics(real, health, host=host, port=port) as server:
        yield server
