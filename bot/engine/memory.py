"""A scene's memory as the runtime sees it: the store plus caches it keeps coherent itself.

Every write of a reply's state and every erase goes through here, so no caller ever has to
invalidate a cache by hand.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.catalog import PersonaCatalog
from bot.engine.types import EngineConfig
from bot.llm import Usage
from bot.memory import (
    ChannelConfig,
    GuildSettings,
    MessageRecord,
    NewMessage,
    NotFoundError,
    Store,
    Summary,
    UsageRecord,
)
from bot.models import AuthorKind, HistoryLine, Persona, PlayerSheet, ReplyStatus
from bot.once import Loader
from bot.tokens import TokenEstimator

PARTS_KEPT = 512
"""Recent multi-message replies whose part texts are remembered in process."""

GUILD_SETTINGS_TTL = 30.0
"""Seconds a guild's settings are trusted from the cache (other processes may change them)."""

HIDDEN_STATUSES = frozenset({ReplyStatus.STREAMING, ReplyStatus.FAILED})
"""Replies the prompt never sees: still being written, or nothing usable came."""


@dataclass
class Window:
    """A channel's recent history, kept in memory so a turn never re-reads the database."""

    rows: deque[tuple[int, HistoryLine]] = field(default_factory=deque)
    unsettled: set[int] = field(default_factory=set)
    """Replies in the window that were interrupted: they answer nobody."""
    saw: dict[int, int] = field(default_factory=dict)
    """For each persona reply, the newest player line its prompt held: a line stored while
    the reply was being prepared sits before it in memory, yet waits for an answer."""
    whole: bool = False
    """The window holds the channel's entire history (no summary, nothing dropped): there is
    nothing older to recall."""

    def drop_oldest(self) -> None:
        """The oldest line leaves the window (folded into the summary, or one too many)."""
        self.forget_notes(self.rows.popleft()[0])
        self.whole = False

    def forget_notes(self, row_id: int) -> None:
        """Drop what the window noted about a line that left it."""
        self.unsettled.discard(row_id)
        self.saw.pop(row_id, None)


SummaryView = tuple[str | None, int | None, int | None]
"""A summary as turns read it: its text, the memory id it covers to, its version's id."""
_NO_SUMMARY: SummaryView = (None, None, None)


class SceneMemory:
    """Caches of what the database holds for each channel, written through and kept coherent."""

    def __init__(
        self,
        *,
        store: Store,
        personas: PersonaCatalog,
        config: EngineConfig,
        estimator: TokenEstimator,
    ) -> None:
        self.store = store
        self.personas = personas
        self.config = config
        self.estimator = estimator
        self._channels: Loader[int, ChannelConfig | None] = Loader()
        self._windows: dict[int, Window] = {}
        self._sheets: Loader[tuple[int | None, int], PlayerSheet | None] = Loader()
        self._guilds: Loader[int, GuildSettings] = Loader(ttl=GUILD_SETTINGS_TTL)
        self._summaries: Loader[int | tuple[int, str], SummaryView] = Loader()
        """Each summary's text, the memory id it covers to, and its version's id."""
        self._joins: Loader[int, dict[str, int]] = Loader()
        self._pins: Loader[int, tuple[str, ...]] = Loader()
        self._parts: dict[int, tuple[str, ...]] = {}
        """The text each message of recent multi-message replies shows, by reply id."""
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        """This process's name on turn leases."""

    # ---- scene settings ----------------------------------------------------------------------

    async def channel(self, channel_id: int) -> ChannelConfig | None:
        """The channel's roleplay configuration (cached), or None if never configured."""
        return await self._channels.get(channel_id, lambda: self.store.get_channel(channel_id))

    async def save_channel(self, config: ChannelConfig) -> ChannelConfig:
        """Persist a channel's configuration and refresh the cache."""
        await self.store.save_channel(config)
        saved = await self.store.get_channel(config.channel_id)
        self._channels.put(config.channel_id, saved)
        self._joins.forget(config.channel_id)
        return saved or config

    async def cast(self, config: ChannelConfig) -> list[Persona]:
        """The personas seated in a channel's scene, in cast order (unknown ids skipped)."""
        available = await self.personas.for_guild(config.guild_id)
        return [available[pid] for pid in config.cast if pid in available]

    # ---- lines -------------------------------------------------------------------------------

    async def remember(self, message: NewMessage) -> MessageRecord:
        """Store an incoming message before anything else happens, and add it to the window."""
        record = await self.store.add_message(message)
        window = self._windows.get(record.channel_id)
        if window is not None:
            self._insert(window, record.id, await self._line(record))
        return record

    async def known(self, discord_id: int) -> MessageRecord | None:
        """The stored line a Discord message belongs to, if any."""
        return await self.store.get_by_discord_id(discord_id)

    async def edit_line(self, discord_id: int, text: str) -> bool:
        """Remember an edit made in Discord; False if the message is unknown or unchanged."""
        record = await self.store.get_by_discord_id(discord_id)
        if record is None or not await self.store.edit_message(discord_id, text):
            return False
        self._windows.pop(record.channel_id, None)
        return True

    async def forget_line(self, discord_id: int) -> MessageRecord | None:
        """Forget the line a deleted Discord message belonged to; returns what was forgotten."""
        record = await self.store.get_by_discord_id(discord_id)
        if record is None or not await self.store.delete_message(discord_id):
            return None
        self._windows.pop(record.channel_id, None)
        return record

    async def keep_parts(
        self, record: MessageRecord, parts: Sequence[str], ids: Sequence[int]
    ) -> None:
        """A reply lost some of its messages: keep only the text the others show."""
        text = "\n\n".join(part for part in parts if part)
        try:
            await self.store.finish_reply(record.id, text, record.status, tuple(ids))
        except NotFoundError:
            return
        self.remember_parts(record.id, parts)
        self._windows.pop(record.channel_id, None)

    # ---- replies -----------------------------------------------------------------------------

    async def begin_reply(
        self, channel_id: int, guild_id: int | None, persona: Persona, reply_to: int | None
    ) -> int:
        """Create a reply's memory row, status streaming, before any of it shows."""
        return await self.store.begin_reply(
            channel_id=channel_id,
            guild_id=guild_id,
            persona_id=persona.id,
            author_name=persona.name,
            reply_to=reply_to,
        )

    async def reply_progress(self, reply_id: int, text: str, discord_ids: Sequence[int]) -> None:
        """Keep what a streaming reply shows so far: a crash then loses nothing seen.

        A reply no longer stored (erased meanwhile, e.g. by another process) is left alone.
        """
        with contextlib.suppress(NotFoundError):
            await self.store.save_progress(reply_id, text, tuple(discord_ids))

    def remember_parts(self, reply_id: int, parts: Sequence[str]) -> None:
        """What each message of a reply shows, so deleting one forgets exactly its text."""
        if len(parts) > 1:
            self._parts[reply_id] = tuple(parts)
            while len(self._parts) > PARTS_KEPT:
                del self._parts[next(iter(self._parts))]
        else:
            self._parts.pop(reply_id, None)

    def parts(self, reply_id: int) -> tuple[str, ...]:
        """The texts of a reply's messages as last shown by this process (empty: unknown)."""
        return self._parts.get(reply_id, ())

    async def finish_reply(
        self, reply_id: int, text: str, status: ReplyStatus, discord_ids: Sequence[int]
    ) -> MessageRecord | None:
        """Store a reply's final text and status; None if it was deleted meanwhile."""
        try:
            record = await self.store.finish_reply(reply_id, text, status, tuple(discord_ids))
        except NotFoundError:
            return None
        self._settled(record)
        return record

    async def add_alternative(
        self, reply_id: int, text: str, status: ReplyStatus, discord_ids: Sequence[int]
    ) -> MessageRecord | None:
        """Store a regenerated reply as a new alternative, now the one shown."""
        try:
            record = await self.store.add_alternative(reply_id, text, status)
            await self.store.set_discord_ids(reply_id, tuple(discord_ids))
        except NotFoundError:
            return None
        self._windows.pop(record.channel_id, None)
        return record

    async def select_alternative(self, reply_id: int, index: int) -> MessageRecord:
        """Show another alternative of a reply; memory follows what is shown."""
        record = await self.store.select_alternative(reply_id, index)
        self._windows.pop(record.channel_id, None)
        return record

    async def set_reply_messages(self, reply_id: int, discord_ids: Sequence[int]) -> None:
        """Record which Discord messages show a reply now."""
        await self.store.set_discord_ids(reply_id, tuple(discord_ids))

    async def drop_reply(self, reply_id: int) -> None:
        """Forget a reply nobody saw (stopped before any text showed)."""
        record = await self.store.get_message(reply_id)
        if record is None:
            return
        if record.discord_ids:
            await self.store.delete_message(record.discord_ids[0])
        else:
            await self.store.finish_reply(reply_id, "", ReplyStatus.FAILED, ())
        self._windows.pop(record.channel_id, None)

    async def reply(self, reply_id: int) -> MessageRecord | None:
        """A stored reply (or any line) by memory id."""
        return await self.store.get_message(reply_id)

    async def unfinished_replies(self, channel_ids: Sequence[int]) -> list[MessageRecord]:
        """Replies a crash left streaming in these channels, oldest first."""
        return await self.store.unfinished_replies(channel_ids)

    def _settled(self, record: MessageRecord) -> None:
        window = self._windows.get(record.channel_id)
        if window is None:
            return
        if record.status in HIDDEN_STATUSES or not record.text:
            self._remove(window, record.id)
            return
        line = self._line_now(record)
        self._remove(window, record.id)
        self._insert(window, record.id, line)
        self._note_reply(window, record)

    # ---- what the scheduler asks -------------------------------------------------------------

    async def recent_speakers(self, channel_id: int, limit: int = 8) -> list[str]:
        """Persona ids of the latest persona lines, oldest first."""
        window = await self.window(channel_id)
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
        window = await self.window(channel_id)
        for row_id, line in reversed(window.rows):
            if line.kind is AuthorKind.PERSONA and (before is None or row_id < before):
                return row_id
        return None

    async def has_later_reply(self, channel_id: int, reply_id: int) -> bool:
        """Whether a persona reply newer than `reply_id` exists (streaming ones included)."""
        later = await self.store.messages_after(channel_id, reply_id, limit=200)
        return any(record.kind is AuthorKind.PERSONA for record in later)

    async def unanswered(self, channel_id: int) -> int | None:
        """Memory id of the newest line if it still waits for an answer, else None.

        A finished persona reply answers the lines its prompt held (everything before it,
        but for lines stored while it was being prepared); an interrupted one answers
        nobody, so the player line before it counts as unanswered again.
        """
        window = await self.window(channel_id)
        answered = -1
        for row_id, line in reversed(window.rows):
            if line.kind is AuthorKind.HUMAN:
                return None if line.ooc or row_id <= answered else row_id
            if row_id not in window.unsettled:
                answered = max(answered, window.saw.get(row_id, row_id))
                if answered == row_id:
                    return None
        return None

    # ---- players and summaries ---------------------------------------------------------------

    async def sheet(self, guild_id: int | None, user_id: int) -> PlayerSheet | None:
        """A player's sheet as the prompt sees it (the guild's, else their global one)."""
        return await self._sheets.get(
            (guild_id, user_id), lambda: self.store.get_sheet(user_id, guild_id)
        )

    async def save_sheet(self, sheet: PlayerSheet, guild_id: int | None) -> None:
        """Store a player's sheet; their label changes in every cached window."""
        await self.store.save_sheet(sheet, guild_id)
        self.player_changed(sheet.user_id)

    async def clear_sheet(self, user_id: int, guild_id: int | None) -> bool:
        """Remove a player's sheet; False if there was none."""
        cleared = await self.store.clear_sheet(user_id, guild_id)
        self.player_changed(user_id)
        return cleared

    def player_changed(self, user_id: int | None) -> None:
        """A player's sheet changed (None: any player): their label and sheet are read again."""
        self._sheets.forget_where(lambda key: user_id is None or key[1] == user_id)
        self._windows.clear()

    def player_forgotten(self, user_id: int | None) -> None:
        """A player was forgotten: drop every cached view their data or its summaries reach."""
        self.player_changed(user_id)
        self._pins.clear()
        self._summaries.clear()

    async def summary(self, channel_id: int, persona_id: str | None = None) -> SummaryView:
        """The channel's summary (or a late joiner's): text, id it covers to, version id."""
        key = channel_id if persona_id is None else (channel_id, persona_id)

        async def load() -> SummaryView:
            summary = await self.store.get_summary(channel_id, persona_id)
            return (summary.text, summary.covers_until, summary.id) if summary else _NO_SUMMARY

        return await self._summaries.get(key, load)

    def summary_saved(self, channel_id: int, persona_id: str | None, summary: Summary) -> None:
        """A fold saved a new summary version."""
        key = channel_id if persona_id is None else (channel_id, persona_id)
        self._summaries.put(key, (summary.text, summary.covers_until, summary.id))

    async def pins(self, channel_id: int) -> tuple[str, ...]:
        """The channel's pinned facts."""

        async def load() -> tuple[str, ...]:
            return tuple(pin.text for pin in await self.store.list_pins(channel_id))

        return await self._pins.get(channel_id, load)

    async def joined(self, channel_id: int) -> dict[str, int]:
        """When each cast member joined: the last memory id before it (0 = from the start)."""
        return await self._joins.get(channel_id, lambda: self.store.cast_joined(channel_id))

    def channel_changed(self, channel_id: int) -> None:
        """Drop every cached view of a channel (after a wipe, rewind or summary edit)."""
        self._channels.forget(channel_id)
        self._windows.pop(channel_id, None)
        self._pins.forget(channel_id)
        self._joins.forget(channel_id)
        self._summaries.forget_where(
            lambda key: key == channel_id or (isinstance(key, tuple) and key[0] == channel_id)
        )

    def window_moved(self, channel_id: int, covers_until: int) -> None:
        """A fold covered history up to `covers_until`: those lines leave the window."""
        window = self._windows.get(channel_id)
        if window is None:
            return
        window.whole = False
        while window.rows and window.rows[0][0] <= covers_until:
            window.drop_oldest()

    async def catch_up(self, channel_id: int) -> None:
        """Another process may have written to the channel: reload what we cached if so."""
        window = self._windows.get(channel_id)
        latest = await self.store.latest_id(channel_id)
        if window is not None and (window.rows[-1][0] if window.rows else None) != latest:
            self.channel_changed(channel_id)

    async def warm(self, channel_id: int) -> ChannelConfig | None:
        """Load what a turn in the channel reads (settings, window, summary, joins, pins), so
        the first reply after a scene starts, or after a restart, queries nothing but its own
        line. Many channels' first turns would otherwise queue behind each other's loads.
        Returns the scene's settings when it runs, else None.
        """
        config = await self.channel(channel_id)
        if config is None or not config.enabled:
            return None
        await self.window(channel_id)
        await self.joined(channel_id)
        await self.pins(channel_id)
        await self.guild_settings(config.guild_id)
        await self.personas.for_guild(config.guild_id)
        return config

    # ---- guilds ------------------------------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """A guild's settings (budgets, alerts, game-master role); cached briefly, since other
        processes sharing the memory may change them.
        """
        return await self._guilds.get(guild_id, lambda: self.store.get_guild_settings(guild_id))

    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Store a guild's settings; the next turn reads them."""
        saved = await self.store.save_guild_settings(settings)
        self._guilds.put(settings.guild_id, saved)
        return saved

    # ---- usage -------------------------------------------------------------------------------

    async def record_usage(
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
        await self.store.record_usage(
            UsageRecord(
                guild_id=guild_id or 0,
                channel_id=channel_id,
                user_id=user_id,
                persona_id=persona_id,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cached_tokens=usage.cached_tokens,
                cost_usd=usage.cost_usd,
                flags=flags,
            )
        )

    # ---- the window --------------------------------------------------------------------------

    async def window(self, channel_id: int) -> Window:
        """The channel's recent history after its summary, loaded once and kept current."""
        window = self._windows.get(channel_id)
        if window is not None:
            return window
        _, covers_until, _ = await self.summary(channel_id)
        records = await self.store.window(
            channel_id, limit=self.config.window_rows, after_id=covers_until
        )
        window = Window(whole=covers_until is None and len(records) < self.config.window_rows)
        for record in records:
            if record.status in HIDDEN_STATUSES or (
                record.kind is AuthorKind.PERSONA and not record.text
            ):
                continue
            window.rows.append((record.id, await self._line(record)))
            self._note_reply(window, record)
        self._windows[channel_id] = window
        return window

    async def _line(self, record: MessageRecord) -> HistoryLine:
        speaker = record.author_name
        if record.kind is AuthorKind.HUMAN and record.author_id is not None:
            sheet = await self.sheet(record.guild_id, record.author_id)
            if sheet is not None and sheet.name:
                speaker = sheet.name
        return self._line_as(record, speaker)

    def _line_now(self, record: MessageRecord) -> HistoryLine:
        """A persona line needs no sheet look-up."""
        return self._line_as(record, record.author_name)

    def _line_as(self, record: MessageRecord, speaker: str) -> HistoryLine:
        return HistoryLine(
            speaker=speaker,
            text=record.text,
            kind=record.kind,
            persona_id=record.persona_id,
            user_id=record.author_id if record.kind is AuthorKind.HUMAN else None,
            ooc=record.ooc,
            tokens=self.estimator.estimate_raw(record.text),
        )

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
            window.drop_oldest()

    @staticmethod
    def _note_reply(window: Window, record: MessageRecord) -> None:
        """What a persona reply answers: nothing if interrupted, else the lines its prompt
        held (up to `reply_to`; a reply without one, such as a greeting, everything before it).
        """
        if record.kind is not AuthorKind.PERSONA:
            return
        if record.status is ReplyStatus.INTERRUPTED:
            window.unsettled.add(record.id)
        if record.reply_to is not None and record.reply_to < record.id:
            window.saw[record.id] = record.reply_to

    @staticmethod
    def _remove(window: Window, row_id: int) -> None:
        window.forget_notes(row_id)
        for index in range(len(window.rows) - 1, -1, -1):
            if window.rows[index][0] == row_id:
                del window.rows[index]
                return
            if window.rows[index][0] < row_id:
                return
