"""Scraping the bot's `/metrics` in end-to-end tests: start the endpoint, read its values.

    async with monitored_scene(tmp_path) as (scene, endpoint):
        ...make a reply happen...
        metrics = await endpoint.scrape()
        assert metrics.value("ensemble_active_scenes") == 1
        assert metrics.value("ensemble_discord_429_total", scope="webhook") == 1

The endpoint is the production one (`bot.monitoring.monitoring`) on a free loopback port.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from bot.monitoring import monitoring
from tests.harness import Scene, running_scene


@dataclass(frozen=True)
class Scraped:
    """One scrape of `/metrics`: every sample, by name and labels."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample `name{labels}`; KeyError (listing what exists) when it is absent."""
        key = (name, frozenset(labels.items()))
        if key not in self.samples:
            known = sorted(f"{n}{dict(sorted(ls))}" for n, ls in self.samples if n == name)
            raise KeyError(f"no sample {name}{labels}; the scrape has {known}")
        return self.samples[key]

    def total(self, name: str) -> float:
        """The sum of `name` over all its labels."""
        return sum(v for (n, _), v in self.samples.items() if n == name)


@dataclass(frozen=True)
class MetricsEndpoint:
    """The running `/metrics` + `/healthz` endpoint of a test bot."""

    base_url: str

    async def scrape(self) -> Scraped:
        """GET /metrics and parse it."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.base_url}/metrics")
        response.raise_for_status()
        return Scraped(
            {
                (sample.name, frozenset(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(response.text)
                for sample in family.samples
            }
        )

    async def health(self) -> tuple[int, str]:
        """GET /healthz: (status code, body)."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.base_url}/healthz")
        return response.status_code, response.text


@contextlib.asynccontextmanager
async def serving(scene_services: Any, bot: Any) -> AsyncIterator[MetricsEndpoint]:
    """The production endpoint for an already running bot, on a free loopback port."""
    assert isinstance(scene_services.metrics, Metrics), "build the bot with metrics_port=0"
    async with monitoring(
        scene_services.metrics, scene_services.store, bot, host="127.0.0.1", port=0
    ) as server:
        assert server is not None
        yield MetricsEndpoint(f"http://127.0.0.1:{server.port}")


@contextlib.asynccontextmanager
async def monitored_scene(
    tmp_path: Path, **settings_overrides: Any
) -> AsyncIterator[tuple[Scene, MetricsEndpoint]]:
    """`running_scene` with metrics on and the endpoint serving."""
    async with (
        running_scene(tmp_path, metrics_port=0, **settings_overrides) as scene,
        serving(scene.services, scene.bot) as endpoint,
    ):
        yield scene, endpoint
