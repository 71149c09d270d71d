"""Stream a model reply into Discord: typing, first text at once, paced edits, clean splits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.llm import ChatResult
from bot.pacing import EditPacer
from bot.text import split_for_discord
from bot.ui.targets import ReplyTarget

log = logging.getLogger(__name__)

DISCORD_LIMIT = 2000
MARKER = " ▌"
TYPING_DELAY = 0.02


@dataclass
class StreamOutcome:
    """What happened to one streamed reply."""

    text: str = ""
    message_ids: list[int] = field(default_factory=list)
    result: ChatResult | None = None
    error: BaseException | None = None
    deleted: bool = False
    stopped: bool = False

    @property
    def complete(self) -> bool:
        """The model finished normally (or the player stopped it) and Discord shows it all."""
        return self.error is None and not self.deleted and (self.result is not None or self.stopped)


ViewFactory = Callable[[StreamOutcome], discord.ui.View | None]
FooterFactory = Callable[[StreamOutcome], str]


class StreamingReply:
    """Turns an async stream of text deltas into one or more Discord messages.

    The first text is posted the moment it arrives; later text is added by edits about once
    per `interval` seconds per message, within the channel budget kept by `pacer`; the final
    edit goes out as soon as the stream ends, without the in-progress marker.

    `streaming_view` may be an awaitable (e.g. a task storing the reply whose id the buttons
    carry): it is awaited before the first write, while the model request is in flight.
    """

    def __init__(
        self,
        target: ReplyTarget,
        pacer: EditPacer,
        channel_id: int,
        *,
        interval: float,
        typing: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
        streaming_view: discord.ui.View | Awaitable[discord.ui.View | None] | None = None,
        final_view: ViewFactory | None = None,
        footer: FooterFactory | None = None,
        reuse_ids: list[int] | None = None,
        initial_text: str = "",
        on_synced: Callable[[str, list[int]], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._target = target
        self._pacer = pacer
        self._channel_id = channel_id
        self._interval = interval
        self._typing = typing
        self._streaming_view: discord.ui.View | None = None
        self._pending_view: Awaitable[discord.ui.View | None] | None = None
        if streaming_view is None or isinstance(streaming_view, discord.ui.View):
            self._streaming_view = streaming_view
        else:
            self._pending_view = streaming_view
        self._final_view = final_view
        self._footer = footer
        self._on_synced = on_synced
        self._clock = clock
        self._changed = asyncio.Event()
        self._done = asyncio.Event()
        self._stop_requested = False
        self._reader: asyncio.Task[None] | None = None
        self.outcome = StreamOutcome(text=initial_text, message_ids=list(reuse_ids or ()))
        # Reused messages show something else: "\0" never equals real content, forcing an edit.
        self._shown: list[tuple[str, discord.ui.View | None]] = [("\0", None)] * len(
            self.outcome.message_ids
        )

    def stop(self) -> None:
        """Stop generating; the text so far stays and the reply is finalised."""
        self._stop_requested = True
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    async def run(self, events: AsyncIterator[str | ChatResult]) -> StreamOutcome:
        """Consume `events` until the end, keeping Discord in step; never raises for Discord."""
        # The model request goes out first; the typing indicator follows in the same tick.
        self._reader = asyncio.create_task(self._read(events))
        typing_task = asyncio.create_task(self._keep_typing()) if self._typing else None
        try:
            await self._target.ready()  # overlaps with the model's time to first token
            if self._pending_view is not None:
                self._streaming_view = await self._pending_view
            await self._write_loop()
            if not self.outcome.deleted:
                await self._finalize()
        except discord.NotFound:
            self.outcome.deleted = True
        finally:
            if typing_task is not None:
                typing_task.cancel()
            if not self._reader.done():
                self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        return self.outcome

    async def _keep_typing(self) -> None:
        assert self._typing is not None
        # Let the model request leave first; skip typing if the text beat us to it.
        await asyncio.sleep(TYPING_DELAY)
        if self._changed.is_set():
            return
        with contextlib.suppress(discord.HTTPException):
            async with self._typing():
                await self._changed.wait()

    async def _read(self, events: AsyncIterator[str | ChatResult]) -> None:
        outcome = self.outcome
        try:
            async for event in events:
                if isinstance(event, str):
                    if not event:
                        continue
                    outcome.text += event
                    self._changed.set()
                else:
                    outcome.result = event
        except asyncio.CancelledError:
            outcome.stopped = self._stop_requested
            if not self._stop_requested:
                raise
        except Exception as error:  # the model client's errors end the stream, text is kept
            outcome.error = error
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
            self._done.set()
            self._changed.set()

    async def _write_loop(self) -> None:
        last_edit = 0.0
        while not self._done.is_set():
            await self._changed.wait()
            self._changed.clear()
            if self._done.is_set():
                return
            if not self.outcome.message_ids:
                await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
                await self._sync(streaming=True)
                last_edit = self._clock()
                continue
            wait = last_edit + self._interval - self._clock()
            if wait <= 0 and self._pacer.try_take_optional(
                self._channel_id, bot_token=self._target.bot_token
            ):
                await self._sync(streaming=True)
                last_edit = self._clock()
                continue
            wait = max(
                wait,
                self._pacer.optional_wait(self._channel_id, bot_token=self._target.bot_token),
                0.01,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), timeout=wait)
            self._changed.set()

    def _chunks(self, *, streaming: bool, footer: str = "") -> list[str]:
        text = self.outcome.text
        reserve = len(MARKER) if streaming else len(footer)
        limit = DISCORD_LIMIT - len(self._target.header) - reserve
        chunks = split_for_discord(text, limit=limit) if text else []
        if streaming and chunks:
            chunks[-1] += MARKER
        elif chunks:
            chunks[-1] += footer
        elif footer:
            chunks = [footer.lstrip()]
        return chunks

    async def _sync(
        self,
        *,
        streaming: bool,
        footer: str = "",
        final_view: discord.ui.View | None = None,
    ) -> None:
        """Bring the Discord messages in line with the text.

        The caller has taken one pacer slot; every further request takes its own.
        """
        chunks = self._chunks(streaming=streaming, footer=footer)
        ids = self.outcome.message_ids
        slot_taken = True
        for index, content in enumerate(chunks):
            is_last = index == len(chunks) - 1
            view = (self._streaming_view if streaming else final_view) if is_last else None
            wanted = (content, view)
            if index < len(ids) and self._shown[index] == wanted:
                continue
            if not slot_taken:
                await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
            slot_taken = False
            if index < len(ids):
                await self._target.edit(ids[index], content, view=view)
                self._shown[index] = wanted
            else:
                ids.append(await self._target.send(content, view=view))
                self._shown.append(wanted)
        if streaming and self._on_synced is not None:
            await self._on_synced(self.outcome.text, list(ids))
        if not streaming and len(ids) > len(chunks):
            for extra in ids[len(chunks) :]:
                await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
                await self._target.delete(extra)
            del ids[len(chunks) :]
            del self._shown[len(chunks) :]

    async def _finalize(self) -> None:
        footer = self._footer(self.outcome) if self._footer else ""
        view = self._final_view(self.outcome) if self._final_view else None
        if not self.outcome.message_ids and not self.outcome.text and not footer:
            return
        await self._pacer.take(self._channel_id, bot_token=self._target.bot_token)
        await self._sync(streaming=False, footer=footer, final_view=view)
