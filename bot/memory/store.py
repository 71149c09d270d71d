"""The memory store interface every backend implements; all SQL hides behind it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from bot.memory.records import (
    ChannelConfig,
    GuildSettings,
    MessageRecord,
    NewMessage,
    Pin,
    StoredPersona,
    Summary,
    UsageRecord,
    UsageReport,
)
from bot.models import PlayerSheet, ReplyStatus

ForgottenCallback = Callable[[int | None], None]
"""Told the id of a user another process forgot, or None if any user may have been."""
SheetChangedCallback = Callable[[int | None], None]
"""Told the id of a player whose sheet another process saved or cleared, or None if any
player's may have changed."""


class Store(ABC):
    """Per-channel roleplay memory: typed async methods over one database.

    Every method is atomic. Failures raise `bot.memory.errors.StoreError` subclasses;
    ids that are not stored raise `NotFoundError` where a method cannot answer None/False.
    Times are Unix seconds from the store's clock.
    """

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abstractmethod
    async def close(self) -> None:
        """Flush and close; calling it twice is harmless."""

    @abstractmethod
    async def stats(self) -> dict[str, Any]:
        """Backend, location, schema version and row counts (for `python -m bot check`)."""

    @abstractmethod
    async def integrity_check(self) -> list[str]:
        """Problems found by a full consistency check of the database; empty when healthy."""

    async def on_forgotten(self, callback: ForgottenCallback) -> None:
        """Call `callback(user_id)` whenever another process sharing the database forgets a user.

        Processes keep what they read in memory, so each must drop what it holds of a user
        that `forget_user` erased elsewhere. `callback(None)` means reports may have been
        missed (the store lost its link to the database for a while): any user may have been
        forgotten. Forgets made through this store are not reported; the caller knows them.
        Reports start before this returns. Callbacks run in the event loop and must not block.

        The default does nothing: a database only one process uses (SQLite) has no one to
        tell.

        Raises:
            DatabaseUnavailableError: the store could not start listening.

        """
        del callback

    async def on_sheet_changed(self, callback: SheetChangedCallback) -> None:
        """Call `callback(user_id)` whenever another process saves or clears a player's sheet.

        A global sheet is used in every guild, so each process must look up again the sheets
        it cached of that player. `callback(None)` means reports may have been missed: any
        player's sheet may have changed. Changes made through this store are not reported.
        Reports start before this returns. Callbacks run in the event loop and must not block.

        The default does nothing: a database only one process uses (SQLite) has no one to
        tell.

        Raises:
            DatabaseUnavailableError: the store could not start listening.

        """
        del callback

    # Channels and guilds

    @abstractmethod
    async def get_channel(self, channel_id: int) -> ChannelConfig | None:
        """A channel's roleplay settings, or None if it was never configured."""

    @abstractmethod
    async def save_channel(self, config: ChannelConfig) -> ChannelConfig:
        """Create or replace a channel's settings; returns them with `updated_at` set.

        Personas new to `config.cast` are recorded as joining after the newest message.
        """

    @abstractmethod
    async def list_enabled_channels(self, guild_id: int | None = None) -> list[ChannelConfig]:
        """Channels with roleplay on, in one guild or everywhere."""

    @abstractmethod
    async def cast_joined(self, channel_id: int) -> dict[str, int]:
        """Each cast member's join point: the newest message id then (0 = from the start)."""

    @abstractmethod
    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """A guild's settings, or the defaults if it never saved any."""

    @abstractmethod
    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Create or replace a guild's settings."""

    # Personas and player sheets

    @abstractmethod
    async def list_personas(self, guild_id: int) -> list[StoredPersona]:
        """A guild's own persona cards, by id."""

    @abstractmethod
    async def get_persona(self, guild_id: int, persona_id: str) -> StoredPersona | None:
        """One of a guild's own persona cards."""

    @abstractmethod
    async def save_persona(
        self, guild_id: int, persona_id: str, card: Mapping[str, Any]
    ) -> StoredPersona:
        """Create or replace a guild's persona card; any JSON value survives unchanged.

        Raises:
            ValueError: the card is not JSON-serialisable (or holds NaN/infinity).

        """

    @abstractmethod
    async def delete_persona(self, guild_id: int, persona_id: str) -> bool:
        """Remove a guild's persona card; False if there was none."""

    @abstractmethod
    async def get_sheet(self, user_id: int, guild_id: int | None) -> PlayerSheet | None:
        """A player's sheet: the guild's one if set, else their global one."""

    @abstractmethod
    async def get_sheets(
        self, user_ids: Iterable[int], guild_id: int | None
    ) -> dict[int, PlayerSheet]:
        """Sheets of several players at once (guild sheets win); players without one are absent."""

    @abstractmethod
    async def save_sheet(self, sheet: PlayerSheet, guild_id: int | None) -> None:
        """Create or replace a player's sheet for one guild, or globally when `guild_id` is None."""

    @abstractmethod
    async def clear_sheet(self, user_id: int, guild_id: int | None) -> bool:
        """Remove a player's guild (or global) sheet; False if there was none."""

    # Messages

    @abstractmethod
    async def add_message(self, message: NewMessage) -> MessageRecord:
        """Store a message the bot saw; a Discord id already stored returns the existing row."""

    @abstractmethod
    async def begin_reply(
        self,
        channel_id: int,
        guild_id: int | None,
        persona_id: str,
        author_name: str,
        reply_to: int | None = None,
    ) -> int:
        """Store an empty persona reply in status streaming; returns its memory id."""

    @abstractmethod
    async def save_progress(
        self, reply_id: int, text: str, discord_ids: Sequence[int] | None = None
    ) -> None:
        """Keep the text streamed so far (and the Discord messages showing it) of a reply.

        Raises:
            NotFoundError: no such reply.

        """

    @abstractmethod
    async def finish_reply(
        self,
        reply_id: int,
        text: str,
        status: ReplyStatus,
        discord_ids: Sequence[int] | None = None,
    ) -> MessageRecord:
        """Store the final text and status of the alternative on show.

        Raises:
            NotFoundError: no such reply.
            ValueError: `status` is STREAMING.

        """

    @abstractmethod
    async def add_alternative(
        self, reply_id: int, text: str = "", status: ReplyStatus = ReplyStatus.STREAMING
    ) -> MessageRecord:
        """Add a new alternative (swipe) to a reply; it becomes the one on show.

        Raises:
            NotFoundError: no such reply.

        """

    @abstractmethod
    async def select_alternative(self, reply_id: int, index: int) -> MessageRecord:
        """Show another stored alternative of a reply.

        Raises:
            NotFoundError: no such reply.
            IndexError: the reply has no alternative `index`.

        """

    @abstractmethod
    async def set_discord_ids(self, reply_id: int, discord_ids: Sequence[int]) -> None:
        """Record which Discord messages now show a reply, first one first.

        Raises:
            NotFoundError: no such reply.

        """

    @abstractmethod
    async def get_message(self, message_id: int) -> MessageRecord | None:
        """A stored message by memory id."""

    @abstractmethod
    async def unfinished_replies(
        self, channel_ids: Collection[int] | None = None
    ) -> list[MessageRecord]:
        """Replies still streaming (left so by a crash), oldest first, in those channels."""

    @abstractmethod
    async def get_by_discord_id(self, discord_id: int) -> MessageRecord | None:
        """The stored message a Discord message belongs to (any part of a long reply)."""

    @abstractmethod
    async def find_reply(self, reply_to: int, persona_id: str) -> MessageRecord | None:
        """A persona's first reply to a message, to avoid answering it twice."""

    @abstractmethod
    async def edit_message(self, discord_id: int, text: str) -> bool:
        """Replace a message's text and mark it edited; False if unknown or unchanged."""

    @abstractmethod
    async def delete_message(self, discord_id: int) -> bool:
        """Forget the message a Discord message belongs to; False if unknown."""

    @abstractmethod
    async def window(
        self, channel_id: int, *, limit: int, after_id: int | None = None
    ) -> list[MessageRecord]:
        """The newest `limit` messages with id above `after_id`, oldest first; O(limit)."""

    @abstractmethod
    async def messages_after(
        self, channel_id: int, after_id: int | None, *, limit: int
    ) -> list[MessageRecord]:
        """The oldest `limit` messages with id above `after_id`, oldest first (to summarise)."""

    @abstractmethod
    async def latest_id(self, channel_id: int) -> int | None:
        """The newest message id of a channel, or None if it has none."""

    @abstractmethod
    async def count_messages(self, channel_id: int) -> int:
        """How many messages a channel has stored."""

    @abstractmethod
    async def rewind(self, channel_id: int, after_discord_id: int) -> int:
        """Forget every message after a Discord message, and summaries covering them.

        Returns how many messages were deleted.

        Raises:
            NotFoundError: that Discord message is not stored in this channel.

        """

    @abstractmethod
    async def wipe_channel(self, channel_id: int) -> dict[str, int]:
        """Erase a channel's messages, summaries and pins for good; its settings stay."""

    @abstractmethod
    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Erase for good a user's messages, sheets, pins and the summaries built from their
        messages, and unlink their usage.

        The model wrote the summaries from the messages, so in each channel where a summary
        covers a message of the user, every version of every summary (the channel's and each
        late joiner's, hand edits included) is erased; the channel's messages stay, so the
        engine can fold them into a new summary. Summaries elsewhere stay.

        Returns counts by key: `messages`, `sheets` and `pins` erased; `usage` ledger rows
        unlinked; `summaries` (versions erased) and `summary_channels` (the channels they
        were in); `summary_authors`: versions the user wrote by hand that stay, unlinked.
        """

    # Summaries and pins

    @abstractmethod
    async def get_summary(self, channel_id: int, persona_id: str | None = None) -> Summary | None:
        """The current summary of a channel (or of one persona's view of it)."""

    @abstractmethod
    async def save_summary(
        self,
        channel_id: int,
        persona_id: str | None,
        text: str,
        covers_until: int,
        author_id: int | None = None,
    ) -> Summary:
        """Store a new version of a summary; `author_id` names an admin who wrote it."""

    @abstractmethod
    async def save_fold(
        self,
        channel_id: int,
        persona_id: str | None,
        text: str,
        covers_until: int,
        *,
        previous_id: int | None,
        folded: Sequence[int],
    ) -> Summary | None:
        """Store a summary the model folded from stored messages, unless they were erased.

        `previous_id` is the id of the summary version it continues (None: there was none),
        `folded` the memory ids of the messages it summarised. Nothing is saved, and None is
        returned, when that version is no longer the current one or any of `folded` is no
        longer stored: the summary would carry what `forget_user`, `wipe_channel` or
        `rewind` erased, or overwrite a newer version. Atomic with those erases in every
        process: either the check sees the erase, or the erase sees the new version.
        """

    @abstractmethod
    async def summary_history(
        self, channel_id: int, persona_id: str | None = None, *, limit: int = 20
    ) -> list[Summary]:
        """Versions of a summary, newest first."""

    @abstractmethod
    async def rollback_summary(
        self, channel_id: int, persona_id: str | None = None
    ) -> Summary | None:
        """Delete the current version; returns the one now current, or None if none is left."""

    @abstractmethod
    async def add_pin(self, channel_id: int, text: str, author_id: int | None) -> int:
        """Pin a fact to a channel's prompt; returns the pin id."""

    @abstractmethod
    async def list_pins(self, channel_id: int) -> list[Pin]:
        """A channel's pins, oldest first."""

    @abstractmethod
    async def remove_pin(self, channel_id: int, pin_id: int) -> bool:
        """Unpin a fact; False if the channel has no such pin."""

    # Usage

    @abstractmethod
    async def record_usage(self, record: UsageRecord) -> None:
        """Add one request to the ledger, priced from M2-her's list when `cost_usd` is None."""

    @abstractmethod
    async def usage_report(self, guild_id: int, since: float | None = None) -> UsageReport:
        """A guild's usage since a time (or ever), in total and per channel, user and persona."""

    @abstractmethod
    async def spent_usd(self, guild_id: int, since: float, user_id: int | None = None) -> float:
        """Dollars a guild (or one user in it) has spent since a time."""

    # Leases: cross-process single-flight

    @abstractmethod
    async def try_acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take a named lease for `ttl_s` seconds if it is free, expired, or already ours."""

    @abstractmethod
    async def renew_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Extend our lease to `ttl_s` seconds from now; False if someone else holds it."""

    @abstractmethod
    async def release_lease(self, name: str, holder: str) -> bool:
        """Give up our lease; False if we did not hold it."""
