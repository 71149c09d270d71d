"""The life of one reply: pending → streaming → complete | interrupted | failed.

`ReplyLife` is the only code that moves a reply between those states. It writes each state to
memory and to Discord together: the memory row exists before any text shows, every write that
reaches Discord is saved as progress, and the reply ends in a terminal look (no cursor, no Stop
button) and a matching final status — whatever failed, the model or Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.engine.memory import SceneMemory
from bot.engine.port import (
    Controls,
    Ending,
    Look,
    MessageGone,
    PortError,
    ReplyOutlet,
    Shown,
)
from bot.engine.types import PreparedTurn
from bot.errors import describe_error
from bot.llm import ChatResult
from bot.memory import MessageRecord
from bot.metrics import MetricsSink, NoMetrics
from bot.models import ReplyStatus

log = logging.getLogger(__name__)

SETTLE_ATTEMPTS = 3
SETTLE_BACKOFF = 0.5
NO_REPLY_NOTE = "⚠️ No reply came from the model — press Retry."
SHUTDOWN_NOTE = "✂️ Interrupted: the bot was shutting down. Press Retry or Continue."
PART_JOIN = "\n\n"


class StopReason(StrEnum):
    """Why a reply stopped before the model finished it."""

    PLAYER = "player"
    """A player pressed Stop: the text so far is the reply."""
    SHUTDOWN = "shutdown"
    """The bot is shutting down: the reply is interrupted."""
    DELETED = "deleted"
    """A player deleted one of its messages: what remains is the reply."""
    DISCORD = "discord"
    """Discord refused to show more: what it showed is kept, interrupted."""


class ReplyKind(StrEnum):
    """What a reply's text does to memory when it ends."""

    NEW = "new"
    REGENERATE = "regenerate"
    """A new alternative of a stored reply, in the same messages."""
    CONTINUE = "continue"
    """More text for a stored reply that was cut off."""
    RETRY = "retry"
    """A failed reply written again in place (a failure is no alternative worth keeping)."""


class GrowingText:
    """A reply's text while the model writes it (the `ReplyText` an outlet mirrors)."""

    def __init__(self, initial: str = "") -> None:
        self._text = initial
        self._done = False
        self._event = asyncio.Event()

    @property
    def text(self) -> str:
        """Everything written so far."""
        return self._text

    @property
    def done(self) -> bool:
        """Whether the text will not change any more."""
        return self._done

    def add(self, delta: str) -> None:
        """Append a piece of text."""
        self._text += delta
        self._event.set()

    def finish(self) -> None:
        """No more text will come."""
        self._done = True
        self._event.set()

    async def changed(self) -> None:
        """Wait until the text changes or ends."""
        await self._event.wait()
        self._event.clear()


@dataclass
class ReplyOutcome:
    """How one reply ended."""

    reply_id: int | None
    ending: Ending | None
    """The terminal look it was given; None when nothing of it is left."""
    shown: Shown
    result: ChatResult | None = None
    error: BaseException | None = None
    port_error: PortError | None = None
    stopped: StopReason | None = None
    record: MessageRecord | None = field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        """Whether the reply ended as the model meant it to (or as a player cut it)."""
        return self.ending is not None and self.ending.look in (Look.COMPLETE, Look.CUT)

    @property
    def text(self) -> str:
        """The reply's final text."""
        return self.ending.text if self.ending is not None else ""

    @property
    def label(self) -> str:
        """How it ended, in one word: completed, cut, interrupted, failed, stopped, deleted."""
        if self.ending is None:
            return "deleted"
        if self.stopped is StopReason.PLAYER:
            return "stopped"
        return "completed" if self.ending.look is Look.COMPLETE else self.ending.look.value


Events = Callable[[], AsyncIterator[str | ChatResult]]
Account = Callable[[PreparedTurn, ChatResult | None], Awaitable[None]]
Notify = Callable[[str], Awaitable[bool]]


class ReplyLife:
    """Runs one reply from the model into Discord and memory; see the module docstring."""

    def __init__(
        self,
        *,
        turn: PreparedTurn,
        kind: ReplyKind,
        outlet: ReplyOutlet,
        memory: SceneMemory,
        events: Events,
        account: Account,
        notify: Notify,
        record: MessageRecord | None = None,
        metrics: MetricsSink | None = None,
        heard_at: float | None = None,
    ) -> None:
        self.turn = turn
        self._metrics: MetricsSink = metrics or NoMetrics()
        self._heard_at = heard_at
        self._first_token_at: float | None = None
        self._last_token_at: float | None = None
        self.kind = kind
        self._outlet = outlet
        self._memory = memory
        self._events = events
        self._account = account
        self._notify = notify
        self._record = record
        self._stop: StopReason | None = None
        self._reader: asyncio.Task[None] | None = None
        self._result: ChatResult | None = None
        self._error: BaseException | None = None
        self.reply_id: int | None = record.id if record is not None else None
        self.settling = False
        self._look_refused = True
        """Until Discord took the terminal look, memory can't call the reply complete."""
        """The text is final; only the terminal look and memory are still being written."""
        self._finished = asyncio.Event()

    @property
    def stopping(self) -> StopReason | None:
        """Why the reply was asked to stop, if it was."""
        return self._stop

    async def wait_finished(self, timeout: float) -> bool:
        """Wait until the reply's life is over; False if it is not after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                await self._finished.wait()
        except TimeoutError:
            return False
        return True

    def shows(self, message_id: int) -> bool:
        """Whether one of the reply's messages is `message_id`."""
        return message_id in self._outlet.shown.message_ids

    def retired(self, message_id: int) -> bool:
        """Whether the reply itself removed `message_id` (its deletion is no player's)."""
        return message_id in self._outlet.shown.retired

    def part_deleted(self, message_id: int) -> None:
        """A player deleted one of the reply's messages: stop, and keep what the others show."""
        self._outlet.drop(message_id)
        self.stop(StopReason.DELETED)

    def stop(self, reason: StopReason) -> None:
        """Stop generating; the reply still ends in a terminal look."""
        if self._stop is None:
            self._stop = reason
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    async def run(self) -> ReplyOutcome:
        """Stream the reply, then settle it in Discord and memory together."""
        try:
            return await self._live()
        finally:
            self._finished.set()

    async def _live(self) -> ReplyOutcome:
        initial = self._record.text if self.kind is ReplyKind.CONTINUE and self._record else ""
        text = GrowingText(joinable(initial))
        self._reader = asyncio.create_task(self._read(text))
        try:
            if self.reply_id is None:
                turn = self.turn
                self.reply_id = await self._memory.begin_reply(
                    turn.channel_id, turn.guild_id, turn.persona, turn.reply_to
                )
            port_error = await self._mirror(text, self.reply_id)
            if port_error is not None:
                self.stop(
                    StopReason.DELETED
                    if isinstance(port_error, MessageGone)
                    else (StopReason.DISCORD)
                )
        except BaseException:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            raise
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self.settling = True
        ending = self._ending(text)
        shown = await self._settle(ending) if ending is not None else self._outlet.shown
        record = await self._store(ending, shown)
        await self._account(self.turn, self._result)
        return ReplyOutcome(
            reply_id=self.reply_id,
            ending=ending,
            shown=shown,
            result=self._result,
            error=self._error,
            port_error=port_error,
            stopped=self._stop,
            record=record,
        )

    async def _read(self, text: GrowingText) -> None:
        events = self._events()
        if self._heard_at is not None:
            self._metrics.event_to_request(time.monotonic() - self._heard_at)
        try:
            async for event in events:
                if isinstance(event, str):
                    if event:
                        if self._first_token_at is None:
                            self._first_token_at = time.monotonic()
                        text.add(event)
                else:
                    self._result = event
                    self._last_token_at = time.monotonic()
        except asyncio.CancelledError:
            if self._stop is None:
                raise
        except Exception as error:  # the model client's errors end the reply; text is kept
            self._error = error
            self._metrics.provider_error(type(error).__name__)
        finally:
            text.finish()
            close = getattr(events, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def _mirror(self, text: GrowingText, reply_id: int) -> PortError | None:
        """Show the text while it grows; which messages show it is kept as progress."""
        saved: tuple[int, ...] = ()
        timed = False
        try:
            async for shown in self._outlet.mirror(text, reply_id):
                if not timed and self._first_token_at is not None:
                    self._metrics.first_token_to_text(time.monotonic() - self._first_token_at)
                    timed = True
                if self.kind is ReplyKind.NEW and shown.message_ids != saved:
                    # Which messages show the reply is what a crash must not lose (their text
                    # is read back from Discord on the next start); not every edit.
                    await self._memory.reply_progress(reply_id, shown.text, shown.message_ids)
                    saved = shown.message_ids
        except PortError as error:
            self._log_refusal(error, "while streaming")
            return error
        except Exception as error:  # an outlet bug must not leave the reply streaming
            log.exception("Showing reply %s failed in channel %s", reply_id, self.turn.channel_id)
            return PortError(f"unexpected {type(error).__name__}")
        return None

    def _ending(self, text: GrowingText) -> Ending | None:
        """The terminal look the reply ends in, from what happened to it."""
        controls = self._controls()
        new_text = text.text.strip()
        stop = self._stop
        if stop is StopReason.DELETED:
            parts = self._outlet.shown.parts
            if not parts:
                return None
            return Ending(PART_JOIN.join(parts), Look.COMPLETE, controls=controls)
        if stop is StopReason.DISCORD:
            shown = self._outlet.shown.text.strip()
            if self._rewrites or not shown:
                note = "⚠️ Discord refused to show this reply — press Retry."
                return self._or_previous("", Look.FAILED, note, controls)
            note = "⚠️ Discord refused to show the rest of this reply. The text so far is kept."
            return Ending(shown, Look.INTERRUPTED, note=note, controls=controls)
        if stop is StopReason.SHUTDOWN:
            if not new_text and self.kind is ReplyKind.NEW:
                return Ending("", Look.FAILED, note=SHUTDOWN_NOTE, controls=controls)
            return self._or_previous(new_text, Look.INTERRUPTED, SHUTDOWN_NOTE, controls)
        if stop is StopReason.PLAYER:
            if not new_text:
                return self._previous(controls, note="") if self._rewrites else None
            return Ending(new_text, Look.COMPLETE, controls=controls)
        if self._error is not None:
            note = f"⚠️ {describe_error(self._error)}"
            return self._or_previous(new_text, Look.INTERRUPTED, note, controls)
        if not new_text or self._result is None:
            return self._or_previous("", Look.FAILED, NO_REPLY_NOTE, controls)
        look = Look.CUT if self._result.truncated else Look.COMPLETE
        return Ending(new_text, look, controls=controls)

    @property
    def _rewrites(self) -> bool:
        return self.kind in (ReplyKind.REGENERATE, ReplyKind.CONTINUE)

    def _gained_text(self, text: str) -> bool:
        """Whether the model added anything (a continuation starts from the old text)."""
        if self.kind is ReplyKind.CONTINUE and self._record is not None:
            return len(text) > len(self._record.text.strip())
        return bool(text)

    def _or_previous(self, text: str, look: Look, note: str, controls: Controls) -> Ending:
        """`text` with `look`; a rewrite that gained nothing shows the old reply and the note."""
        if self._rewrites and not self._gained_text(text):
            return self._previous(controls, note=note)
        if not text:
            return Ending("", Look.FAILED, note=note, controls=controls)
        return Ending(text, look, note=note, controls=controls)

    def _previous(self, controls: Controls, *, note: str) -> Ending:
        """The reply as it was before a failed rewrite, with a note why nothing changed."""
        assert self._record is not None
        record = self._record
        look = _LOOK_OF.get(record.status, Look.COMPLETE)
        del controls  # a failed rewrite keeps the reply's own buttons
        kept = Controls(record.id, record.swipe_index, record.swipe_count)
        return Ending(record.text, look, note=note, controls=kept)

    def _controls(self) -> Controls:
        assert self.reply_id is not None
        record = self._record
        if self.kind is ReplyKind.REGENERATE and record is not None:
            return Controls(self.reply_id, record.swipe_count, record.swipe_count + 1)
        if record is not None:
            return Controls(self.reply_id, record.swipe_index, record.swipe_count)
        return Controls(self.reply_id)

    async def _settle(self, ending: Ending) -> Shown:
        """Give the messages their terminal look, retrying briefly; tell players if Discord
        keeps refusing.
        """
        last: PortError | None = None
        for attempt in range(SETTLE_ATTEMPTS):
            try:
                shown = await self._outlet.settle(ending)
                self._look_refused = False
                if self._last_token_at is not None:
                    self._metrics.last_token_to_final(time.monotonic() - self._last_token_at)
                return shown
            except MessageGone:
                continue  # the outlet dropped that message; settle what remains
            except PortError as error:
                last = error
                # Only a quick server error is worth another try: a refusal stays a refusal,
                # and a timeout already waited as long as a turn should.
                if error.status is None or (error.status < 500 and error.status != 429):
                    break
                await asyncio.sleep(SETTLE_BACKOFF * (attempt + 1))
        if last is not None:
            self._log_refusal(last, "finishing")
            name = self.turn.persona.name
            await self._notify(
                f"⚠️ {name}'s reply could not be finished: Discord refused the edit "
                f"({last}). Use `/regenerate` to write it again."
            )
        return self._outlet.shown

    async def _store(self, ending: Ending | None, shown: Shown) -> MessageRecord | None:
        """Write the reply's final state: what Discord shows, with the matching status."""
        memory, reply_id = self._memory, self.reply_id
        assert reply_id is not None
        if ending is None:
            if self.kind is ReplyKind.NEW:
                await memory.drop_reply(reply_id)
            return None
        text, status = ending.text, ending.status
        refused = self._look_refused or shown.text.strip() != ending.text.strip()
        if refused and ending.look is not Look.FAILED:
            # Discord did not take the final look: memory keeps what players can see.
            text, status = shown.text.strip(), ReplyStatus.INTERRUPTED
        ids = shown.message_ids
        memory.remember_parts(reply_id, shown.parts)
        if self.kind in (ReplyKind.NEW, ReplyKind.RETRY):
            return await memory.finish_reply(reply_id, text, status, ids)
        if self._record is not None and ending.text == self._record.text and ending.note:
            await memory.set_reply_messages(reply_id, ids)  # a failed rewrite changes nothing
            return self._record
        if self.kind is ReplyKind.REGENERATE:
            return await memory.add_alternative(reply_id, text, status, ids)
        return await memory.finish_reply(reply_id, text, status, ids)

    def _log_refusal(self, error: PortError, when: str) -> None:
        log.warning(
            "Discord refused a reply %s in channel %s (reply %s, messages %s): %s",
            when,
            self.turn.channel_id,
            self.reply_id,
            list(self._outlet.shown.message_ids),
            error,
        )


_LOOK_OF = {
    ReplyStatus.COMPLETE: Look.COMPLETE,
    ReplyStatus.INTERRUPTED: Look.INTERRUPTED,
    ReplyStatus.FAILED: Look.FAILED,
}


def joinable(text: str) -> str:
    """The stored text of a cut-off reply, ready for more words to follow."""
    return text + " " if text and not text.endswith((" ", "\n")) else text
