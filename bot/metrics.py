"""What the bot measures, as Prometheus metrics (no Discord, no web server here).

Core code calls a `MetricsSink` at the moments that matter in a reply's life. `Metrics`
records into its own `CollectorRegistry` (never the process-global one, so tests can build
many); `NoMetrics` does nothing and is what runs when METRICS_PORT is unset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

EXPOSITION_CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

LATENCY_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Seconds: the bot's own steps take milliseconds, a lull or a slow Discord takes seconds."""

TOKEN_KINDS: Final = ("prompt", "completion", "cached")
DISCORD_429_SCOPES: Final = ("bot", "webhook", "interaction", "global")
"""Which limit a Discord 429 hit: a route of the bot's own, a webhook's, an interaction
callback or followup's, or the bot-wide global limit."""

Refresher = Callable[[], Awaitable[None]]


class MetricsSink:
    """Where the bot reports what happened; every method is cheap and never raises.

    The methods here record nothing: `NoMetrics` is this sink as it is, `Metrics` overrides
    every one of them.
    """

    def reply_finished(self, outcome: str) -> None:
        """A reply ended. `outcome` is one of a small fixed set (e.g. "completed",
        "failed", "interrupted", "stopped", "deleted", "over_budget").
        """

    def event_to_request(self, seconds: float) -> None:
        """Time from the Discord event that triggered a reply to the model request."""

    def first_token_to_text(self, seconds: float) -> None:
        """Time from the model's first token to the first text sent to Discord."""

    def last_token_to_final(self, seconds: float) -> None:
        """Time from the model's last token to the final text on Discord."""

    def provider_error(self, error_class: str) -> None:
        """The model provider failed; `error_class` is the error's class name."""

    def discord_429(self, scope: str) -> None:
        """Discord answered 429; `scope` is one of `DISCORD_429_SCOPES`."""

    def usage(
        self, *, prompt_tokens: int, completion_tokens: int, cached_tokens: int, cost_usd: float
    ) -> None:
        """One model request's tokens (cached ones are part of the prompt) and its price."""

    def set_active_scenes(self, count: int) -> None:
        """How many channels have roleplay on."""

    def set_queued_turns(self, count: int) -> None:
        """How many turns wait for their channel's current reply to finish."""

    def set_gateway_connected(self, connected: bool) -> None:
        """Whether every gateway connection of this process is up."""


class NoMetrics(MetricsSink):
    """A `MetricsSink` that records nothing (metrics are off)."""


class Metrics(MetricsSink):
    """A `MetricsSink` backed by Prometheus collectors in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._replies = Counter(
            "ensemble_replies",
            "Replies finished, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self._event_to_request = Histogram(
            "ensemble_event_to_request_seconds",
            "Discord event to model request.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._first_token_to_text = Histogram(
            "ensemble_first_token_to_text_seconds",
            "Model's first token to the first text sent to Discord.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._last_token_to_final = Histogram(
            "ensemble_last_token_to_final_seconds",
            "Model's last token to the final text on Discord.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._provider_errors = Counter(
            "ensemble_provider_errors",
            "Model provider errors, by error class.",
            ["error_class"],
            registry=registry,
        )
        self._discord_429s = Counter(
            "ensemble_discord_429",
            "HTTP 429 answers from Discord, by the limit that was hit.",
            ["scope"],
            registry=registry,
        )
        self._tokens = Counter(
            "ensemble_tokens",
            "Model tokens by kind; cached tokens are part of the prompt tokens.",
            ["kind"],
            registry=registry,
        )
        self._cost = Counter("ensemble_cost_usd", "Model cost in US dollars.", registry=registry)
        self._active_scenes = Gauge(
            "ensemble_active_scenes", "Channels with roleplay on.", registry=registry
        )
        self._queued_turns = Gauge(
            "ensemble_queued_turns",
            "Turns waiting for their channel's current reply to finish.",
            registry=registry,
        )
        self._gateway_connected = Gauge(
            "ensemble_gateway_connected",
            "1 while every gateway connection of this process is up.",
            registry=registry,
        )
        for kind in TOKEN_KINDS:
            self._tokens.labels(kind=kind)
        for scope in DISCORD_429_SCOPES:
            self._discord_429s.labels(scope=scope)
        self._refreshers: list[Refresher] = []

    def reply_finished(self, outcome: str) -> None:
        """Count a finished reply under its outcome."""
        self._replies.labels(outcome=outcome).inc()

    def event_to_request(self, seconds: float) -> None:
        """Observe Discord event → model request."""
        self._event_to_request.observe(seconds)

    def first_token_to_text(self, seconds: float) -> None:
        """Observe first token → first Discord text."""
        self._first_token_to_text.observe(seconds)

    def last_token_to_final(self, seconds: float) -> None:
        """Observe last token → final Discord text."""
        self._last_token_to_final.observe(seconds)

    def provider_error(self, error_class: str) -> None:
        """Count a provider error under its class name."""
        self._provider_errors.labels(error_class=error_class).inc()

    def discord_429(self, scope: str) -> None:
        """Count a Discord 429 under the limit it hit."""
        self._discord_429s.labels(scope=scope).inc()

    def usage(
        self, *, prompt_tokens: int, completion_tokens: int, cached_tokens: int, cost_usd: float
    ) -> None:
        """Add one request's tokens and cost."""
        self._tokens.labels(kind="prompt").inc(max(prompt_tokens, 0))
        self._tokens.labels(kind="completion").inc(max(completion_tokens, 0))
        self._tokens.labels(kind="cached").inc(max(cached_tokens, 0))
        self._cost.inc(max(cost_usd, 0.0))

    def set_active_scenes(self, count: int) -> None:
        """Set the number of channels with roleplay on."""
        self._active_scenes.set(count)

    def set_queued_turns(self, count: int) -> None:
        """Set the number of waiting turns."""
        self._queued_turns.set(count)

    def set_gateway_connected(self, connected: bool) -> None:
        """Set whether the gateway is up."""
        self._gateway_connected.set(1 if connected else 0)

    def on_scrape(self, refresh: Refresher) -> None:
        """Run `refresh` before every scrape, e.g. to set a gauge from the database."""
        self._refreshers.append(refresh)

    async def refresh(self) -> None:
        """Run every `on_scrape` callback, in the order they were added."""
        for refresh in self._refreshers:
            await refresh()

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)
