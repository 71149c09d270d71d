"""One reply's Discord messages: typing, first text at once, paced edits, clean splits, and a
terminal look at the end. Implements the engine's `ReplyOutlet`.

Discord errors become the engine's `PortError`s: a deleted message is `MessageGone` (and never
touched again), a deleted webhook is replaced and the reply re-posted through the new one (or
through the bot's own account), and every request is bounded in time so a Discord outage
cannot hold a channel's turn for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import discord

from bot.engine import Ending, Look, MessageGone, PortError, ReplyText, Shown
from bot.pacing import EditPacer
from bot.text import split_for_discord
from bot.ui.controls import ending_controls, streaming_controls
from bot.ui.targets import ReplyTarget

log = logging.getLogger(__name__)

DISCORD_LIMIT = 2000
MARKER = " ▌"
TYPING_DELAY = 0.3
"""Typing shows only if the first text takes longer than this (most first tokens come sooner,
and a typing request for every reply would compete with first texts under load)."""
CALL_TIMEOUT = 8.0
"""Default longest wait for one Discord request (discord.py retries a 5xx for ~25 s)."""
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015

T = TypeVar("T")
Relocate = Callable[[], Awaitable[ReplyTarget]]
Discard = Callable[[int], Awaitable[None]]


class DiscordOutlet:
    """The messages of one persona reply in one channel."""

    def __init__(
        self,
        target: ReplyTarget,
        pacer: EditPacer,
        channel_id: int,
        *,
        interval: float,
        typing: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
        message_ids: tuple[int, ...] = (),
        relocate: Relocate | None = None,
        discard: Discard | None = None,
        call_timeout: float = CALL_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._target = target
        self._call_timeout = call_timeout
        self._pacer = pacer
        self._channel_id = channel_id
        self._interval = interval
        self._typing = typing
        self._relocate = relocate
        self._discard = discard
        self._clock = clock
        self._ids: list[int] = list(message_ids)
        self._dropped: set[int] = set()
        self._retired: list[int] = []
        # Reused messages show something else: "\0" never equals real content, forcing an edit.
        self._shown: list[tuple[str, discord.ui.View | None]] = [("\0", None)] * len(self._ids)
        self._parts: list[str] = [""] * len(self._ids)
        self._text = ""
        self._first_text = asyncio.Event()

    @property
    def shown(self) -> Shown:
        """What Discord shows after the last successful write."""
        return Shown(self._text, tuple(self._ids), tuple(self._parts), tuple(self._retired))

    def drop(self, message_id: int) -> None:
        """A player deleted one of the messages: forget it and its text."""
        if message_id in self._ids:
            index = self._ids.index(message_id)
            del self._ids[index], self._shown[index], self._parts[index]
            self._text = "\n\n".join(part for part in self._parts if part)
        self._dropped.add(message_id)

    # ---- streaming ---------------------------------------------------------------------------

    async def mirror(self, text: ReplyText, reply_id: int) -> AsyncIterator[Shown]:
        """Show `text` while it grows; yields what is shown after each write."""
        typing = asyncio.create_task(self._keep_typing()) if self._typing else None
        try:
            await self._call(self._target.ready())
            view = streaming_controls(reply_id)
            streamed = self._text if self._ids else None
            last_edit = 0.0
            while not text.done:
                current = text.text.strip()
                if current == streamed or not current:
                    await text.changed()
                    continue
                if not self._ids:
                    await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
                elif not await self._edit_allowed(text, last_edit):
                    continue
                self._first_text.set()
                await self._sync(text.text, streaming=True, view=view)
                streamed, last_edit = self._text, self._clock()
                yield self.shown
        finally:
            if typing is not None:
                typing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await typing

    async def _edit_allowed(self, text: ReplyText, last_edit: float) -> bool:
        """Whether an in-between edit may go now; otherwise waits (until the text ends)."""
        bot_token = self._target.bot_token
        wait = last_edit + self._interval - self._clock()
        if wait <= 0 and self._pacer.try_take_optional(self._channel_id, bot_token=bot_token):
            return True
        wait = max(wait, self._pacer.optional_wait(self._channel_id, bot_token=bot_token), 0.01)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                while not text.done:
                    await text.changed()
        return False

    async def _keep_typing(self) -> None:
        assert self._typing is not None
        # Let the model request leave first; skip typing if the text beat us to it.
        await asyncio.sleep(TYPING_DELAY)
        if self._first_text.is_set():
            return
        with contextlib.suppress(discord.HTTPException, TimeoutError):
            async with self._typing():
                await self._first_text.wait()

    # ---- the end -----------------------------------------------------------------------------

    async def read_back(self) -> Shown:
        """What the messages show now, read from Discord (a crash left them behind)."""
        await self._call(self._target.ready())
        ids: list[int] = []
        parts: list[str] = []
        for message_id in list(self._ids):
            try:
                content = await self._call(self._target.fetch(message_id), message_id=message_id)
            except MessageGone:
                continue
            ids.append(message_id)
            parts.append(content.split("\n-# ")[0].removesuffix(MARKER).strip())
        self._ids = ids
        self._parts = parts
        self._shown = [("\0", None)] * len(ids)
        self._text = "\n\n".join(part for part in parts if part)
        return self.shown

    async def settle(self, ending: Ending) -> Shown:
        """Give the messages their terminal look: final text, note, buttons, no cursor."""
        self._first_text.set()
        await self._call(self._target.ready())
        footer = _footer(ending)
        if not self._ids and not ending.text.strip() and not footer:
            return self.shown
        await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
        await self._sync(ending.text, streaming=False, footer=footer, view=ending_controls(ending))
        return self.shown

    # ---- writing -----------------------------------------------------------------------------

    def _chunks(self, text: str, *, streaming: bool, footer: str) -> list[str]:
        reserve = len(MARKER) if streaming else len(footer)
        limit = DISCORD_LIMIT - len(self._target.header) - reserve
        return split_for_discord(text, limit=limit) if text.strip() else []

    async def _sync(
        self, text: str, *, streaming: bool, view: discord.ui.View | None, footer: str = ""
    ) -> None:
        """Bring the messages in line with `text` (the caller took one pacer slot)."""
        try:
            await self._write(text, streaming=streaming, view=view, footer=footer)
        except _WebhookLost:
            await self._move_to_new_target()
            await self._write(text, streaming=streaming, view=view, footer=footer)

    async def _write(
        self, text: str, *, streaming: bool, view: discord.ui.View | None, footer: str
    ) -> None:
        chunks = self._chunks(text, streaming=streaming, footer=footer)
        shown = list(chunks)
        if streaming and shown:
            shown[-1] += MARKER
        elif shown:
            shown[-1] += footer
        elif footer:
            shown = [footer.lstrip()]
        slot_taken = True
        for index, content in enumerate(shown):
            wanted = (content, view if index == len(shown) - 1 else None)
            if index < len(self._ids) and self._shown[index] == wanted:
                continue
            if not slot_taken:
                await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
            slot_taken = False
            part = chunks[index] if index < len(chunks) else ""
            if index < len(self._ids):
                await self._edit(self._ids[index], content, wanted[1])
                self._shown[index] = wanted
                self._parts[index] = part
            else:
                self._ids.append(await self._send(content, wanted[1]))
                self._shown.append(wanted)
                self._parts.append(part)
        if not streaming:
            while len(self._ids) > len(shown):
                await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
                extra = self._ids[-1]
                self._retired.append(extra)
                with contextlib.suppress(MessageGone):
                    await self._call(self._target.delete(extra), message_id=extra)
                self.drop(extra)
        self._text = text.strip() if chunks else ""

    async def _edit(self, message_id: int, content: str, view: discord.ui.View | None) -> None:
        await self._call(self._target.edit(message_id, content, view=view), message_id=message_id)

    async def _send(self, content: str, view: discord.ui.View | None) -> int:
        return await self._call(self._target.send(content, view=view))

    async def _call(self, request: Awaitable[T], *, message_id: int | None = None) -> T:
        """One Discord request, bounded in time, its errors in the engine's terms."""
        try:
            async with asyncio.timeout(self._call_timeout):
                return await request
        except TimeoutError:
            raise PortError(f"Discord did not answer within {self._call_timeout:g} s") from None
        except discord.NotFound as error:
            if error.code == UNKNOWN_WEBHOOK:
                raise _WebhookLost from error
            if message_id is not None and error.code == UNKNOWN_MESSAGE:
                self.drop(message_id)
                raise MessageGone(message_id) from error
            raise _port_error(error) from error
        except discord.HTTPException as error:
            raise _port_error(error) from error

    async def _move_to_new_target(self) -> None:
        """The webhook was deleted: its messages can't be edited any more. Post the reply
        again through a new webhook (or the bot's account) and remove the orphans if allowed.
        """
        if self._relocate is None:
            raise PortError("the persona's webhook was deleted", status=404, code=UNKNOWN_WEBHOOK)
        orphans = list(self._ids)
        log.warning(
            "Webhook deleted under a reply in channel %s; re-posting (orphans %s)",
            self._channel_id,
            orphans,
        )
        try:
            self._target = await self._relocate()
            await self._call(self._target.ready())
        except _WebhookLost as error:
            raise PortError("the persona's webhook was deleted", status=404) from error
        self._ids, self._shown, self._parts = [], [], []
        self._retired.extend(orphans)
        for orphan in orphans:
            if self._discard is not None:
                await self._discard(orphan)


class _WebhookLost(Exception):
    """The target's webhook no longer exists."""


def _port_error(error: discord.HTTPException) -> PortError:
    detail = f"{error.status} {error.text or error.response.reason}".strip()
    return PortError(detail, status=error.status, code=error.code or None)


def _footer(ending: Ending) -> str:
    """What goes under the text: the ellipsis of a cut reply, or the note."""
    footer = " …" if ending.look is Look.CUT else ""
    if ending.note:
        footer += f"\n-# {ending.note}"
    return footer
