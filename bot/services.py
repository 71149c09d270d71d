"""Build the bot's long-lived services once, in order, and close them in reverse."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio.lowlevel
import httpx

from bot.cards import PersonaFolderError, PersonaLoadResult, load_personas_dir
from bot.catalog import PersonaCatalog
from bot.config import Settings
from bot.engine import EngineConfig, SceneRuntime
from bot.llm import LLMClient
from bot.llm.pool import model_http_client
from bot.memory import Store, open_store
from bot.metrics import Metrics, MetricsSink, NoMetrics
from bot.pacing import EditPacer

log = logging.getLogger(__name__)

MODEL_CONNECTIONS = 200
"""Model requests in flight at once. Every one may stay open for the next turn: a burst of
channels then does not close half its connections as the replies end."""
MODEL_KEEPALIVE_SECONDS = 30.0
"""How long an idle model connection is kept: longer than the pause between two turns of a
scene (a new connection, let alone a TLS handshake, costs more than the request's own work),
shorter than common servers' idle timeouts (60 s and more), which would close it first."""


@dataclass
class Services:
    """What the Discord layer needs, built from Settings and injected into the bot."""

    settings: Settings
    http: httpx.AsyncClient
    store: Store
    llm: LLMClient
    personas: PersonaCatalog
    runtime: SceneRuntime
    pacer: EditPacer
    metrics: MetricsSink = field(default_factory=NoMetrics)
    """Prometheus metrics when METRICS_PORT is set, else a sink that records nothing."""


def build_llm(settings: Settings, http: httpx.AsyncClient) -> LLMClient:
    """The model client for the configured provider."""
    return LLMClient(
        http,
        provider=settings.llm_provider,
        api_key=settings.llm_api_key.get_secret_value(),
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        referer=settings.openrouter_referer or None,
        title=settings.openrouter_title or None,
        dialect=settings.llm_dialect,
        max_attempts=settings.llm_max_attempts,
        connect_timeout=settings.llm_connect_timeout,
        idle_timeout=settings.llm_idle_timeout,
        total_timeout=settings.llm_total_timeout,
    )


def engine_config(settings: Settings) -> EngineConfig:
    """The runtime's knobs from settings."""
    return EngineConfig(
        context_tokens=settings.context_tokens,
        history_tokens=settings.history_tokens,
        reply_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        top_p=settings.llm_top_p,
        ooc_mode=settings.ooc_mode,
        shared_store=settings.uses_postgres,
        lull_seconds=settings.lull_seconds,
        proxy_wait_seconds=settings.proxy_wait_seconds,
        user_cooldown_seconds=settings.user_cooldown_seconds,
        persona_turn_budget=settings.persona_turn_budget,
        lore_tokens=settings.lore_tokens,
        recall_tokens=settings.recall_tokens,
        recall_passages=settings.recall_passages,
    )


def load_shipped_personas(folder: Path) -> PersonaLoadResult:
    """The cards in PERSONAS_DIR; a bad card is logged and skipped.

    Raises:
        PersonaFolderError: the folder itself is missing or unreadable.

    """
    loaded = load_personas_dir(folder)
    for problem in loaded.errors:
        if isinstance(problem, PersonaFolderError):
            raise problem
        log.warning("Persona card skipped: %s", problem)
    return loaded


def build_metrics(settings: Settings) -> MetricsSink:
    """Prometheus metrics when METRICS_PORT is set, else the sink that records nothing."""
    return NoMetrics() if settings.metrics_port is None else Metrics()


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the HTTP pool, the memory and the personas; close them all on the way out."""
    loaded = load_shipped_personas(settings.personas_dir)
    http_client = model_http_client(
        max_connections=MODEL_CONNECTIONS, keepalive_expiry=MODEL_KEEPALIVE_SECONDS
    )
    async with http_client as http:
        # httpx's transport imports anyio's asyncio backend on first use (~20 ms of CPU);
        # load it now rather than inside the first reply after a start.
        await anyio.lowlevel.checkpoint()
        store = await open_store(settings.database)
        try:
            llm = build_llm(settings, http)
            catalog = PersonaCatalog(store, loaded.personas)
            metrics = build_metrics(settings)
            runtime = SceneRuntime(
                store=store,
                llm=llm,
                personas=catalog,
                config=engine_config(settings),
                metrics=metrics,
            )
            # Other processes sharing the memory may forget a player this one has cached.
            await store.on_forgotten(runtime.forgotten_elsewhere)
            # Or change a player's sheet, which a global sheet makes visible in every guild.
            await store.on_sheet_changed(runtime.sheet_changed_elsewhere)
            pacer = EditPacer(
                channel_limit=settings.channel_edit_burst,
                channel_window=settings.channel_edit_window,
                webhook_channel_limit=settings.webhook_channel_limit,
                webhook_channel_window=settings.webhook_channel_window,
            )
            try:
                yield Services(settings, http, store, llm, catalog, runtime, pacer, metrics=metrics)
            finally:
                await runtime.shutdown()
        finally:
            await store.close()
