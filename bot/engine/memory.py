"""The channel memory the engine keeps in process: configs, windows, sheets, summaries."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bot.catalog import PersonaCatalog
from bot.engine.types import EngineConfig
from bot.llm import LLMClient, Usage, as_state_store
from bot.memory import ChannelConfig, MessageRecord, NewMessage, Store, UsageRecord
from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, ReplyStatus
from bot.tokens import TokenEstimator

_LEDGER_HAS_FLAGS = "flags" in {f.name for f in dataclasses.fields(UsageRecord)}
"""Whether the usage ledger has its `flags` column yet (added by the storage work)."""


@dataclass
class Window:
    """A channel's recent history, kept in memory so a turn never re-reads the database."""

    rows: deque[tuple[int, HistoryLine]] = field(default_factory=deque)


class ChannelMemory:
    """Caches of what the database holds for each channel, kept coherent with it."""

    def __init__(
        self,
        *,
        store: Store,
        llm: LLMClient,
        personas: PersonaCatalog,
        config: EngineConfig,
        estimator: TokenEstimator | None = None,
    ) -> None:
        self.store = store
        self.llm = llm
        self.personas = personas
        self.config = config
        self._dialect = llm.dialect
        # The dialect choice survives restarts where the memory can keep runtime state.
        self._dialect.attach(as_state_store(store))
        self._estimator = estimator or TokenEstimator(key=llm.dialect.key)
        self._channels: dict[int, ChannelConfig | None] = {}
        self._windows: dict[int, Window] = {}
        self._sheets: dict[tuple[int | None, int], PlayerSheet | None] = {}
        self._summaries: dict[int | tuple[int, str], tuple[str | None, int | None, int | None]] = {}
        """Each summary's text, the memory id it covers to, and its version's id."""
        self._joins: dict[int, dict[str, int]] = {}
        self._pins: dict[int, tuple[str, ...]] = {}
        self._summarizing: dict[int, asyncio.Task[None]] = {}
        self._folding_held = 0
        """While above 0, memory is being erased and no history is folded."""
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        """This process's name on turn leases."""

    @property
    def estimator(self) -> TokenEstimator:
        """The token estimator, calibrated for this client's provider and model."""
        return self._estimator

    async def channel(self, channel_id: int) -> ChannelConfig | None:
        """The channel's roleplay configuration (cached), or None if never configured."""
        if channel_id in self._channels:
            return self._channels[channel_id]
        config = await self.store.get_channel(channel_id)
        self._channels[channel_id] = config
        return config

    async def save_channel(self, config: ChannelConfig) -> None:
        """Persist a channel's configuration and refresh the cache."""
        await self.store.save_channel(config)
        self._channels[config.channel_id] = await self.store.get_channel(config.channel_id)
        self._joins.pop(config.channel_id, None)

    async def cast(self, config: ChannelConfig) -> list[Persona]:
        """The personas seated in a channel's scene, in cast order (unknown ids skipped)."""
        available = await self.personas.for_guild(config.guild_id)
        return [available[pid] for pid in config.cast if pid in available]

    async def remember(self, message: NewMessage) -> MessageRecord:
        """Store an incoming message before anything else happens, and add it to the window."""
        record = await self.store.add_message(message)
        window = self._windows.get(record.channel_id)
        if window is not None:
            self._insert(window, record.id, await self._line(record))
        return record

    async def message_edited(self, discord_id: int, text: str) -> None:
        """Remember an edit made in Discord."""
        record = await self.store.get_by_discord_id(discord_id)
        if record is not None and await self.store.edit_message(discord_id, text):
            self._windows.pop(record.channel_id, None)

    async def message_deleted(self, discord_id: int) -> MessageRecord | None:
        """Forget a message deleted in Discord; returns what was forgotten."""
        record = await self.store.get_by_discord_id(discord_id)
        if record is not None and await self.store.delete_message(discord_id):
            self._windows.pop(record.channel_id, None)
            return record
        return None

    def invalidate_channel(self, channel_id: int) -> None:
        """Drop every cached view of a channel (after a wipe, rewind or summary edit)."""
        self._channels.pop(channel_id, None)
        self._windows.pop(channel_id, None)
        self._pins.pop(channel_id, None)
        self._joins.pop(channel_id, None)
        for key in [
            k
            for k in self._summaries
            if k == channel_id or (isinstance(k, tuple) and k[0] == channel_id)
        ]:
            del self._summaries[key]

    def invalidate_player(self, user_id: int | None) -> None:
        """A player's sheet changed: their label and sheet are looked up again.

        None stands for any player (another process's reports may have been missed). Also
        registered with `Store.on_sheet_changed` for sheets changed by other processes.
        """
        for key in [k for k in self._sheets if user_id is None or k[1] == user_id]:
            del self._sheets[key]
        self._windows.clear()

    def invalidate_forgotten(self, user_id: int | None) -> None:
        """A player was forgotten: drop every cached view their data or its summaries reach.

        Their lines leave every window and their pins every pin list. Summaries built from
        their lines were erased, so every cached summary is read again and each window
        reloads from what the summary now covers (all that remains, if it was erased).
        None stands for any player (forgets may have been missed): every sheet goes too.
        """
        self.invalidate_player(user_id)
        self._pins.clear()
        self._summaries.clear()

    async def recent_speakers(self, channel_id: int, limit: int = 8) -> list[str]:
        """Persona ids of the latest persona lines, oldest first."""
        window = await self._window(channel_id)
        speakers: list[str] = []
        for _, line in reversed(window.rows):
            if line.kind is AuthorKind.PERSONA and line.persona_id:
                speakers.append(line.persona_id)
                if len(speakers) >= limit:
                    break
        speakers.reverse()
        return speakers

    async def newest_reply_id(self, channel_id: int, *, before: int | None = None) -> int | None:
        """Memory id of the newest persona reply (older than `before`, if given)."""
        window = await self._window(channel_id)
        for row_id, line in reversed(window.rows):
            if line.kind is AuthorKind.PERSONA and (before is None or row_id < before):
                return row_id
        return None

    async def has_later_reply(self, channel_id: int, reply_id: int) -> bool:
        """Whether a persona reply newer than `reply_id` exists (streaming ones included)."""
        later = await self.store.messages_after(channel_id, reply_id, limit=200)
        return any(record.kind is AuthorKind.PERSONA for record in later)

    async def needs_answer(self, channel_id: int) -> bool:
        """Whether the newest line of the scene is not already a persona's reply."""
        window = await self._window(channel_id)
        return not window.rows or window.rows[-1][1].kind is not AuthorKind.PERSONA

    async def _sheet(self, guild_id: int | None, user_id: int) -> PlayerSheet | None:
        key = (guild_id, user_id)
        if key not in self._sheets:
            self._sheets[key] = await self.store.get_sheet(user_id, guild_id)
        return self._sheets[key]

    async def _line(self, record: MessageRecord) -> HistoryLine:
        speaker = record.author_name
        if record.kind is AuthorKind.HUMAN and record.author_id is not None:
            sheet = await self._sheet(record.guild_id, record.author_id)
            if sheet is not None and sheet.name:
                speaker = sheet.name
        return HistoryLine(
            speaker=speaker,
            text=record.text,
            kind=record.kind,
            persona_id=record.persona_id,
            user_id=record.author_id if record.kind is AuthorKind.HUMAN else None,
            ooc=record.ooc,
            tokens=self._estimator.estimate_raw(record.text),
        )

    async def _summary(
        self, channel_id: int, persona_id: str | None = None
    ) -> tuple[str | None, int | None]:
        """The channel's summary (or one late-joining persona's) and the id it covers to."""
        text, covers_until, _ = await self._summary_version(channel_id, persona_id)
        return text, covers_until

    async def _summary_version(
        self, channel_id: int, persona_id: str | None = None
    ) -> tuple[str | None, int | None, int | None]:
        """Like `_summary`, with the id of the version (None when there is no summary)."""
        key = channel_id if persona_id is None else (channel_id, persona_id)
        cached = self._summaries.get(key)
        if cached is None:
            summary = await self.store.get_summary(channel_id, persona_id)
            cached = (
                (summary.text, summary.covers_until, summary.id) if summary else (None, None, None)
            )
            self._summaries[key] = cached
        return cached

    async def _joined(self, channel_id: int) -> dict[str, int]:
        """When each cast member joined: the last memory id before it (0 = from the start)."""
        joined = self._joins.get(channel_id)
        if joined is None:
            joined = self._joins[channel_id] = await self.store.cast_joined(channel_id)
        return joined

    async def _window(self, channel_id: int) -> Window:
        window = self._windows.get(channel_id)
        if window is not None:
            return window
        _, covers_until = await self._summary(channel_id)
        records = await self.store.window(
            channel_id, limit=self.config.window_rows, after_id=covers_until
        )
        window = Window()
        for record in records:
            if record.status is ReplyStatus.STREAMING:
                continue
            window.rows.append((record.id, await self._line(record)))
        self._windows[channel_id] = window
        return window

    def _insert(self, window: Window, row_id: int, line: HistoryLine) -> None:
        """Add a line in memory-id order (a reply's id dates from when it began streaming)."""
        rows = window.rows
        position = len(rows)
        while position and rows[position - 1][0] >= row_id:
            if rows[position - 1][0] == row_id:
                return  # already there (a duplicate delivery)
            position -= 1
        rows.insert(position, (row_id, line))
        while len(rows) > self.config.window_rows:
            rows.popleft()

    async def _record_usage(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int | None,
        persona_id: str | None,
        usage: Usage,
        flags: str = "",
    ) -> None:
        """Add one request to the usage ledger (the store prices it if the provider did not).

        `flags` are the provider's content flags (`ContentFlags.ledger()`).
        """
        record = UsageRecord(
            guild_id=guild_id or 0,
            channel_id=channel_id,
            user_id=user_id,
            persona_id=persona_id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            cost_usd=usage.cost_usd,
        )
        if flags and _LEDGER_HAS_FLAGS:
            extra: dict[str, Any] = {"flags": flags}
            record = dataclasses.replace(record, **extra)
        await self.store.record_usage(record)
