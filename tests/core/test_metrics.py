"""Metrics, the /metrics + /healthz server and the Docker health probe, without Discord."""

import asyncio
import inspect
import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import healthcheck
from bot.metrics import DISCORD_429_SCOPES, Metrics, MetricsSink, NoMetrics
from bot.metrics_server import Health, MetricsPortError, check_health, serve_metrics
from bot.monitoring import discord_429_scope


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_every_method_is_recorded_under_its_metric():
    metrics = Metrics()
    metrics.reply_finished("completed")
    metrics.reply_finished("completed")
    metrics.reply_finished("failed")
    metrics.event_to_request(0.004)
    metrics.first_token_to_text(0.0016)
    metrics.last_token_to_final(0.003)
    metrics.last_token_to_final(2.0)
    metrics.provider_error("RateLimitedError")
    metrics.discord_429("webhook")
    metrics.usage(prompt_tokens=1000, completion_tokens=200, cached_tokens=600, cost_usd=0.0004)
    metrics.set_active_scenes(3)
    metrics.set_queued_turns(2)
    metrics.set_gateway_connected(True)

    got = samples(metrics)

    assert got[("ensemble_replies_total", (("outcome", "completed"),))] == 2
    assert got[("ensemble_replies_total", (("outcome", "failed"),))] == 1
    assert got[("ensemble_event_to_request_seconds_count", ())] == 1
    assert got[("ensemble_event_to_request_seconds_bucket", (("le", "0.005"),))] == 1
    assert got[("ensemble_event_to_request_seconds_bucket", (("le", "0.0025"),))] == 0
    assert got[("ensemble_first_token_to_text_seconds_sum", ())] == pytest.approx(0.0016)
    assert got[("ensemble_last_token_to_final_seconds_count", ())] == 2
    assert got[("ensemble_provider_errors_total", (("error_class", "RateLimitedError"),))] == 1
    assert got[("ensemble_discord_429_total", (("scope", "webhook"),))] == 1
    assert got[("ensemble_discord_429_total", (("scope", "global"),))] == 0
    assert got[("ensemble_tokens_total", (("kind", "prompt"),))] == 1000
    assert got[("ensemble_tokens_total", (("kind", "completion"),))] == 200
    assert got[("ensemble_tokens_total", (("kind", "cached"),))] == 600
    assert got[("ensemble_cost_usd_total", ())] == pytest.approx(0.0004)
    assert got[("ensemble_active_scenes", ())] == 3
    assert got[("ensemble_queued_turns", ())] == 2
    assert got[("ensemble_gateway_connected", ())] == 1


def test_each_metrics_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.discord_429("bot")

    assert samples(first)[("ensemble_discord_429_total", (("scope", "bot"),))] == 1
    assert samples(second)[("ensemble_discord_429_total", (("scope", "bot"),))] == 0


def test_no_metrics_has_the_same_interface_and_records_nothing():
    protocol = {
        name
        for name, member in inspect.getmembers(MetricsSink)
        if inspect.isfunction(member) and not name.startswith("_")
    }
    # Metrics must record every event itself, not fall back to the base's "record nothing".
    assert protocol <= set(vars(Metrics))
    for implementation in (Metrics, NoMetrics):
        for name in protocol:
            assert inspect.signature(getattr(implementation, name)) == inspect.signature(
                getattr(MetricsSink, name)
            ), (implementation, name)
    sink: MetricsSink = NoMetrics()
    sink.usage(prompt_tokens=1, completion_tokens=1, cached_tokens=0, cost_usd=1.0)
    sink.reply_finished("completed")


@pytest.mark.parametrize(
    ("path", "headers", "scope"),
    [
        ("/api/v10/channels/1/messages", {}, "bot"),
        ("/api/v10/webhooks/1/tok/messages/2", {}, "webhook"),
        ("/api/v10/interactions/1/tok/callback", {}, "interaction"),
        ("/api/v10/channels/1/messages", {"X-RateLimit-Global": "true"}, "global"),
        ("/api/v10/webhooks/1/tok", {"X-RateLimit-Scope": "global"}, "global"),
    ],
)
def test_a_429_is_attributed_to_the_limit_it_hit(path, headers, scope):
    assert discord_429_scope(path, headers) == scope
    assert scope in DISCORD_429_SCOPES


async def test_health_needs_the_gateway_and_a_database_that_answers():
    async def fine() -> None:
        return None

    async def broken() -> None:
        raise OSError("disk gone")

    async def stuck() -> None:
        await asyncio.sleep(10)

    assert (await check_health(gateway_connected=lambda: True, ping_database=fine)).ok
    down = await check_health(gateway_connected=lambda: False, ping_database=fine)
    assert down.problems == ("Discord gateway disconnected",)
    failing = await check_health(gateway_connected=lambda: True, ping_database=broken)
    assert failing.problems == ("database error: OSError",)
    slow = await check_health(gateway_connected=lambda: True, ping_database=stuck, timeout=0.05)
    assert slow.problems == ("database did not answer within 0.05 s",)


async def test_server_scrapes_after_refreshing_and_reports_health():
    metrics = Metrics()
    scrapes = 0
    state = {"health": Health()}

    async def refresh() -> None:
        nonlocal scrapes
        scrapes += 1
        metrics.set_active_scenes(scrapes)

    async def health() -> Health:
        return state["health"]

    metrics.on_scrape(refresh)
    async with (
        serve_metrics(metrics, health, host="127.0.0.1", port=0) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client,
    ):
        first = await client.get("/metrics")
        second = await client.get("/metrics")
        ok = await client.get("/healthz")
        state["health"] = Health(("Discord gateway disconnected",))
        bad = await client.get("/healthz")

    assert first.headers["content-type"].startswith("text/plain")
    assert "ensemble_active_scenes 1.0" in first.text
    assert "ensemble_active_scenes 2.0" in second.text
    assert (ok.status_code, ok.text) == (200, "ok\n")
    assert (bad.status_code, bad.text) == (503, "unhealthy: Discord gateway disconnected\n")


async def test_a_taken_port_is_a_metrics_port_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def health() -> Health:
            return Health()

        with pytest.raises(MetricsPortError, match="address already in use"):
            async with serve_metrics(Metrics(), health, host="127.0.0.1", port=port):
                pass


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({}, None),
        ({"METRICS_PORT": ""}, None),
        ({"METRICS_PORT": "9108"}, "http://127.0.0.1:9108/healthz"),
        ({"METRICS_PORT": "9108", "METRICS_HOST": "0.0.0.0"}, "http://127.0.0.1:9108/healthz"),
        ({"METRICS_PORT": "9108", "METRICS_HOST": "::"}, "http://127.0.0.1:9108/healthz"),
        ({"METRICS_PORT": "1", "METRICS_HOST": "10.0.0.5"}, "http://10.0.0.5:1/healthz"),
        ({"METRICS_PORT": "1", "METRICS_HOST": "::1"}, "http://[::1]:1/healthz"),
    ],
)
def test_the_probe_asks_the_configured_address(environ, url):
    assert healthcheck.health_url(environ) == url


async def test_the_probe_exits_0_only_when_healthy(capsys):
    state = {"health": Health()}

    async def health() -> Health:
        return state["health"]

    async with serve_metrics(Metrics(), health, host="127.0.0.1", port=0) as server:
        environ = {"METRICS_PORT": str(server.port), "METRICS_HOST": "127.0.0.1"}
        healthy = await asyncio.to_thread(healthcheck.main, environ)
        state["health"] = Health(("Discord gateway disconnected",))
        unhealthy = await asyncio.to_thread(healthcheck.main, environ)
    gone = await asyncio.to_thread(healthcheck.main, environ)
    off = healthcheck.main({})

    assert (healthy, unhealthy, gone, off) == (0, 1, 1, 1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ok"
    assert lines[1] == "unhealthy: Discord gateway disconnected"
    assert lines[2].startswith("unhealthy: http://127.0.0.1:")
    assert "METRICS_PORT is not set" in lines[3]
