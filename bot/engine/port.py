"""The one narrow port between the scene runtime and Discord.

The runtime owns every reply's life; Discord only shows it. `bot/ui/` implements
`ScenePort`: it opens an outlet for a reply (the Discord messages that show it), posts
notices, reads missed history, and tells admins about problems only they can fix. Errors
come back as `PortError`s, never as discord.py exceptions, so the runtime stays plain Python
and is tested against a recording port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.models import Persona, ReplyStatus


class Look(StrEnum):
    """How a reply's messages look when they are not streaming any more."""

    COMPLETE = "complete"
    CUT = "cut"
    """Finished at the length cap: an ellipsis and a Continue button."""
    INTERRUPTED = "interrupted"
    FAILED = "failed"


TERMINAL_STATUS: dict[Look, ReplyStatus] = {
    Look.COMPLETE: ReplyStatus.COMPLETE,
    Look.CUT: ReplyStatus.COMPLETE,
    Look.INTERRUPTED: ReplyStatus.INTERRUPTED,
    Look.FAILED: ReplyStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class Controls:
    """The buttons a finished reply carries (None on an `Ending`: no buttons at all)."""

    reply_id: int
    swipe_index: int = 0
    swipe_count: int = 1


@dataclass(frozen=True, slots=True)
class Ending:
    """The terminal look of a reply: its text, why it ended, and its buttons."""

    text: str
    look: Look
    note: str = ""
    """One line under the text, e.g. why the reply failed."""
    controls: Controls | None = None

    @property
    def status(self) -> ReplyStatus:
        """The memory status that matches this look."""
        return TERMINAL_STATUS[self.look]


@dataclass(frozen=True, slots=True)
class Shown:
    """What Discord shows of a reply right now: its text and the messages showing it."""

    text: str
    message_ids: tuple[int, ...]
    parts: tuple[str, ...] = ()
    """The text of each message, in order (same length as `message_ids` when known)."""
    retired: tuple[int, ...] = ()
    """Messages the outlet itself stopped using (removed, or left behind by a deleted
    webhook): their deletion is the outlet's doing, not a player's."""


class ReplyText(Protocol):
    """A reply's text as it grows; the outlet mirrors it until `done`."""

    @property
    def text(self) -> str:
        """Everything written so far."""
        ...

    @property
    def done(self) -> bool:
        """Whether the text will not change any more."""
        ...

    async def changed(self) -> None:
        """Wait until the text changes or ends (returns at once if it already did)."""
        ...


class ReplyOutlet(Protocol):
    """The Discord messages of one reply: streamed while it grows, then settled."""

    @property
    def shown(self) -> Shown:
        """What Discord showed after the last successful write."""
        ...

    def mirror(self, text: ReplyText, reply_id: int) -> AsyncIterator[Shown]:
        """Show `text` while it grows (typing first, paced edits, splits at Discord's limit).

        The Stop button it shows is bound to `reply_id`. Yields what is shown after each
        write, and stops when the text is done. Raises a `PortError` when Discord refuses
        (after bounded retries); `MessageGone` when a player deleted one of its messages.
        """
        ...

    def drop(self, message_id: int) -> None:
        """A player deleted one of the messages: never touch it again."""
        ...

    async def read_back(self) -> Shown:
        """What the messages show in Discord now, read from Discord itself (cursor, header and
        note taken off; deleted messages left out). For replies a crash left behind.
        """
        ...

    async def settle(self, ending: Ending) -> Shown:
        """Give the messages their terminal look (no cursor, no Stop button).

        Raises a `PortError` when Discord refuses; `MessageGone` parts are skipped.
        """
        ...


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A player's message in a scene channel, already filtered and turned into plain text."""

    channel_id: int
    guild_id: int | None
    discord_id: int
    author_id: int | None
    """None for a proxy (PluralKit/Tupperbox) message: no Discord user behind it."""
    author_name: str
    text: str
    created_at: float
    reply_to_discord_id: int | None = None
    mentions_bot: bool = False
    via_proxy: bool = False
    received_at: float | None = None
    """`time.monotonic()` when the event reached the bot (for the event → request metric)."""


class ScenePort(Protocol):
    """Everything the runtime needs Discord to do."""

    def open_reply(
        self, channel_id: int, persona: Persona, *, message_ids: Sequence[int] = ()
    ) -> ReplyOutlet:
        """An outlet for a reply of `persona`; `message_ids` reuses messages already posted."""
        ...

    async def get_ready(self, channel_id: int, personas: Sequence[Persona]) -> None:
        """Prepare what the personas speak through in the channel, ahead of their first reply
        (a failure is left for that reply to meet).
        """
        ...

    async def notice(self, channel_id: int, text: str, *, lifetime: float | None = None) -> bool:
        """Post a short notice from the bot (deleted after `lifetime` s); False if refused."""
        ...

    async def retire_controls(self, channel_id: int, persona: Persona, message_id: int) -> None:
        """Take the buttons off an older reply's message, using spare rate-limit room only."""
        ...

    async def missed_messages(
        self, channel_id: int, after_discord_id: int | None, limit: int
    ) -> list[IncomingMessage]:
        """Player messages posted after `after_discord_id`, oldest first (same filters as live)."""
        ...

    async def tell_admins(self, guild_id: int, text: str, log_channel_id: int | None) -> bool:
        """Post `text` in the guild's log channel, else DM its owner; False if nobody was
        reached.
        """
        ...

    def is_age_restricted(self, channel_id: int) -> bool:
        """Whether Discord marks the channel age-restricted (a thread: its parent channel)."""
        ...

    def is_available(self, channel_id: int) -> bool:
        """Whether the channel exists and this process serves it (its guild is connected)."""
        ...


class PortError(Exception):
    """Discord refused a write of the port."""

    def __init__(self, detail: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code


class MessageGone(PortError):
    """A message of the reply was deleted in Discord."""

    def __init__(self, message_id: int, detail: str = "the message was deleted") -> None:
        super().__init__(detail, status=404, code=10008)
        self.message_id = message_id
