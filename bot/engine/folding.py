"""Rolling summaries: fold history the prompt had to drop, keeping late joiners' views."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from bot.engine.memory import SceneMemory
from bot.llm import ChatResult, LLMClient
from bot.models import HistoryLine
from bot.summarizer import summarize

log = logging.getLogger(__name__)

SUMMARY_CHUNK_TOKENS = 8000
"""At most this much history is folded into the summary by one request."""
SUMMARY_TARGET = 0.6
"""After folding, the history left in the window fits in this share of the history budget."""


class Folding:
    """Keeps each channel's history inside its budget by summarising the oldest part."""

    def __init__(self, memory: SceneMemory, llm: LLMClient) -> None:
        self._memory = memory
        self._llm = llm
        self._running: dict[int, asyncio.Task[None]] = {}
        self._held = 0
        """While above 0, memory is being erased and no history is folded."""

    def after_reply(self, channel_id: int, dropped_history: int) -> None:
        """Fold old history in the background when the last prompt had to drop some."""
        if dropped_history <= 0 or channel_id in self._running or self._held:
            return
        task = asyncio.create_task(self._fold_history(channel_id))
        self._running[channel_id] = task
        task.add_done_callback(lambda done: self._folded(channel_id, done))

    def running(self) -> frozenset[int]:
        """Channels being folded right now."""
        return frozenset(self._running)

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Fold nothing while the block erases memory; folds already running are cancelled.

        A fold works from cached history and saves its summary when the model answers, so one
        running across an erase could store a summary of erased lines. Nothing is lost by
        cancelling: the next turn that drops history folds again, from what remains.
        """
        self._held += 1
        try:
            await self.cancel_all()
            yield
        finally:
            self._held -= 1

    async def cancel_all(self) -> None:
        """Cancel every running fold and wait for them to end."""
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def cancel_soon(self) -> None:
        """Cancel every running fold without waiting (a report from another process)."""
        for task in self._running.values():
            task.cancel()

    def _folded(self, channel_id: int, task: asyncio.Task[None]) -> None:
        self._running.pop(channel_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("Folding history failed in channel %s", channel_id, exc_info=task.exception())

    async def _fold_history(self, channel_id: int) -> None:
        memory = self._memory
        window = await memory.window(channel_id)
        rows = list(window.rows)
        total = sum(line.tokens for _, line in rows)
        estimator = memory.estimator
        target = estimator.unscale(int(memory.config.history_tokens * SUMMARY_TARGET))
        cap = estimator.unscale(SUMMARY_CHUNK_TOKENS)
        folded: list[tuple[int, HistoryLine]] = []
        covers_until = None
        size = 0
        for row_id, line in rows[:-1]:  # the newest line always stays verbatim
            if total - size <= target or size + line.tokens > cap:
                break
            folded.append((row_id, line))
            size += line.tokens
            covers_until = row_id
        if covers_until is None:
            return
        if not await self._fold_for_late_joiners(channel_id, rows, covers_until):
            return  # a late joiner's view could not be kept: fold nothing rather than lose it
        if not await self._fold_into(channel_id, None, folded, covers_until):
            return
        memory.window_moved(channel_id, covers_until)
        log.info("Channel %s: folded %d lines into the summary", channel_id, len(folded))

    async def _fold_into(
        self,
        channel_id: int,
        persona_id: str | None,
        lines: Sequence[tuple[int, HistoryLine]],
        covers_until: int,
    ) -> bool:
        """Summarise `lines` onto the current summary (the channel's, or a late joiner's) and
        save it as the new version; False when the model failed or the store refused it.
        """
        memory = self._memory
        previous, _, previous_id = await memory.summary(channel_id, persona_id)
        outcome = await summarize(self._llm, previous, [line for _, line in lines])
        if outcome is None:
            return False
        text, result = outcome
        await self._account(channel_id, result)
        saved = await memory.store.save_fold(
            channel_id,
            persona_id,
            text,
            covers_until,
            previous_id=previous_id,
            folded=[row_id for row_id, _ in lines],
        )
        if saved is None:
            log.info(
                "Channel %s: memory changed while folding; the summary was dropped", channel_id
            )
            memory.channel_changed(channel_id)
            return False
        memory.summary_saved(channel_id, persona_id, saved)
        return True

    async def _fold_for_late_joiners(
        self, channel_id: int, rows: Sequence[tuple[int, HistoryLine]], covers_until: int
    ) -> bool:
        """Before the window moves past `covers_until`, summarise each late joiner's part."""
        memory = self._memory
        for persona_id, joined in (await memory.joined(channel_id)).items():
            if joined <= 0 or joined >= covers_until:
                continue
            _, covered, _ = await memory.summary(channel_id, persona_id)
            start = max(joined, covered or 0)
            seen = [(rid, line) for rid, line in rows if start < rid <= covers_until]
            if seen and not await self._fold_into(channel_id, persona_id, seen, covers_until):
                return False
        return True

    async def _account(self, channel_id: int, result: ChatResult | None) -> None:
        """Summary requests cost money too: they go to the ledger without a player or persona."""
        if result is None or result.usage is None:
            return
        config = await self._memory.channel(channel_id)
        await self._memory.record_usage(
            guild_id=config.guild_id if config else None,
            channel_id=channel_id,
            user_id=None,
            persona_id=None,
            usage=result.usage,
        )

    async def close(self, grace: float = 5.0) -> None:
        """Let running summaries finish (up to `grace` s), then cancel them."""
        tasks = list(self._running.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
