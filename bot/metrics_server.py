"""The opt-in HTTP endpoint: `/metrics` for Prometheus and `/healthz` for Docker (aiohttp)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from bot.metrics import EXPOSITION_CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

DATABASE_PING_TIMEOUT = 2.0
"""Seconds a health check waits for the database before calling it unhealthy."""


class MetricsPortError(OSError):
    """The metrics endpoint cannot listen on METRICS_HOST:METRICS_PORT."""

    def __init__(self, host: str, port: int, detail: str) -> None:
        super().__init__(f"cannot listen on {host}:{port} ({detail})")
        self.host = host
        self.port = port
        self.detail = detail


@dataclass(frozen=True)
class Health:
    """The answer of one health check: healthy, or the reasons it is not."""

    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


HealthCheck = Callable[[], Awaitable[Health]]


async def check_health(
    *,
    gateway_connected: Callable[[], bool],
    ping_database: Callable[[], Awaitable[object]],
    timeout: float = DATABASE_PING_TIMEOUT,
) -> Health:
    """Healthy while the gateway is connected and the database answers within `timeout`."""
    problems: list[str] = []
    if not gateway_connected():
        problems.append("Discord gateway disconnected")
    try:
        await asyncio.wait_for(ping_database(), timeout)
    except TimeoutError:
        problems.append(f"database did not answer within {timeout:g} s")
    except Exception as error:  # any failure of the ping is what the check reports
        problems.append(f"database error: {type(error).__name__}")
    return Health(tuple(problems))


class MetricsServer:
    """Serves `/metrics` and `/healthz` until closed; see `serve_metrics`."""

    def __init__(self, metrics: Metrics, health: HealthCheck) -> None:
        self._metrics = metrics
        self._health = health
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        """Listen on `host`:`port` (0 picks a free port; see `.port`).

        Raises:
            MetricsPortError: the address is in use or cannot be bound.

        """
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            detail = os.strerror(error.errno).lower() if error.errno else str(error)
            raise MetricsPortError(host, port, detail) from error
        bound = self._runner.addresses[0]
        self.port = int(bound[1])
        log.info("Metrics on http://%s:%d/metrics, health on /healthz", host, self.port)

    async def close(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()

    async def _scrape(self, _request: web.Request) -> web.Response:
        try:
            await self._metrics.refresh()
        except Exception:  # a failing gauge source must not hide every other metric
            log.warning("Could not refresh a metric before a scrape", exc_info=True)
        return web.Response(
            body=self._metrics.exposition(), headers={"Content-Type": EXPOSITION_CONTENT_TYPE}
        )

    async def _healthz(self, _request: web.Request) -> web.Response:
        health = await self._health()
        if health.ok:
            return web.Response(text="ok\n")
        return web.Response(status=503, text="unhealthy: " + "; ".join(health.problems) + "\n")


@asynccontextmanager
async def serve_metrics(
    metrics: Metrics, health: HealthCheck, *, host: str, port: int
) -> AsyncIterator[MetricsServer]:
    """Serve `/metrics` and `/healthz` on `host`:`port` while the block runs."""
    server = MetricsServer(metrics, health)
    await server.start(host, port)
    try:
        yield server
    finally:
        await server.close()
