"""Build the bot's long-lived services once, in order, and close them in reverse."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from bot.cards import load_personas_dir
from bot.catalog import PersonaCatalog
from bot.config import Settings
from bot.engine import Engine, EngineConfig
from bot.llm import LLMClient
from bot.memory import Store, open_store
from bot.models import ReplyStatus
from bot.pacing import EditPacer

log = logging.getLogger(__name__)

STALE_STREAM_S = 600.0
"""A reply streaming for longer than this is abandoned: far above any model timeout."""


@dataclass
class Services:
    """What the Discord layer needs, built from Settings and injected into the bot."""

    settings: Settings
    http: httpx.AsyncClient
    store: Store
    llm: LLMClient
    personas: PersonaCatalog
    engine: Engine
    pacer: EditPacer


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
    """The engine's knobs from settings."""
    return EngineConfig(
        context_tokens=settings.context_tokens,
        history_tokens=settings.history_tokens,
        reply_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        top_p=settings.llm_top_p,
        ooc_mode=settings.ooc_mode,
        shared_store=settings.uses_postgres,
    )


async def interrupt_abandoned_replies(
    store: Store, *, shared: bool, now: float | None = None
) -> int:
    """Mark interrupted the replies a crash left streaming, keeping their text and Discord
    messages; returns how many. On a shared database the other processes' replies stream
    too, so only those begun more than `STALE_STREAM_S` ago count as abandoned.
    """
    cutoff = (time.time() if now is None else now) - STALE_STREAM_S
    abandoned = [
        reply
        for reply in await store.unfinished_replies()
        if not shared or reply.created_at < cutoff
    ]
    for reply in abandoned:
        await store.finish_reply(reply.id, reply.text, ReplyStatus.INTERRUPTED)
    if abandoned:
        log.info("Marked %d unfinished replies interrupted", len(abandoned))
    return len(abandoned)


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the HTTP pool, the memory and the personas; close them all on the way out."""
    loaded = load_personas_dir(settings.personas_dir)
    for problem in loaded.errors:
        log.warning("Persona card skipped: %s", problem)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(limits=limits, http2=False) as http:
        store = await open_store(settings.database)
        try:
            await interrupt_abandoned_replies(store, shared=settings.uses_postgres)
            llm = build_llm(settings, http)
            catalog = PersonaCatalog(store, loaded.personas)
            engine = Engine(
                store=store,
                llm=llm,
                personas=catalog,
                config=engine_config(settings),
            )
            # Other processes sharing the memory may forget a player this one has cached.
            await store.on_forgotten(engine.forgotten_elsewhere)
            # Or change a player's sheet, which a global sheet makes visible in every guild.
            await store.on_sheet_changed(engine.invalidate_player)
            pacer = EditPacer(
                channel_limit=settings.channel_edit_burst,
                channel_window=settings.channel_edit_window,
                webhook_channel_limit=settings.webhook_channel_limit,
                webhook_channel_window=settings.webhook_channel_window,
            )
            try:
                yield Services(settings, http, store, llm, catalog, engine, pacer)
            finally:
                await engine.close()
        finally:
            await store.close()
