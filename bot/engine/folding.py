"""Rolling summaries: fold history the prompt had to drop, keeping late joiners' views."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from bot.engine.memory import ChannelMemory
from bot.engine.types import PreparedTurn
from bot.llm import ChatResult
from bot.models import HistoryLine
from bot.summarizer import summarize

log = logging.getLogger(__name__)

SUMMARY_CHUNK_TOKENS = 8000
"""At most this much history is folded into the summary by one request."""
SUMMARY_TARGET = 0.6
"""After folding, the history left in the window fits in this share of the history budget."""


class HistoryFolding(ChannelMemory):
    """Keeps each channel's history inside its budget by summarising the oldest part."""

    def maybe_summarize(self, turn: PreparedTurn) -> None:
        """Fold old history into the summary in the background when the prompt dropped some."""
        channel_id = turn.channel_id
        if turn.prompt.dropped_history <= 0 or channel_id in self._summarizing:
            return
        if self._folding_held:
            return  # memory is being erased; a later turn folds from what remains
        task = asyncio.create_task(self._fold_history(channel_id))
        self._summarizing[channel_id] = task
        task.add_done_callback(lambda done: self._folded(channel_id, done))

    @asynccontextmanager
    async def folding_held(self) -> AsyncIterator[None]:
        """Fold nothing while the block erases memory; folds already running are cancelled.

        A fold works from cached history and saves its summary when the model answers, so one
        running across an erase could store a summary of erased lines. Nothing is lost by
        cancelling: the next turn that drops history folds again, from what remains.
        """
        self._folding_held += 1
        try:
            running = list(self._summarizing.values())
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            yield
        finally:
            self._folding_held -= 1

    def forgotten_elsewhere(self, user_id: int | None) -> None:
        """Another process forgot a player (None: maybe any): drop what this one holds of them.

        Registered with `Store.on_forgotten`. Their lines leave the cached windows (as in
        `invalidate_forgotten`), and running folds are cancelled, since they may be
        summarising those lines or a summary the erase took. A fold that finishes before the
        report arrives is refused by the store (`Store.save_fold`), so none brings them back.
        """
        for task in self._summarizing.values():
            task.cancel()
        self.invalidate_forgotten(user_id)
        log.info("A player was forgotten by another process; their cached lines were dropped")

    def _folded(self, channel_id: int, task: asyncio.Task[None]) -> None:
        self._summarizing.pop(channel_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("Folding history failed in channel %s", channel_id, exc_info=task.exception())

    async def _fold_history(self, channel_id: int) -> None:
        window = await self._window(channel_id)
        rows = list(window.rows)
        total = sum(line.tokens for _, line in rows)
        target = self._estimator.unscale(int(self.config.history_tokens * SUMMARY_TARGET))
        cap = self._estimator.unscale(SUMMARY_CHUNK_TOKENS)
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
        current = self._windows.get(channel_id)
        if current is not None:
            while current.rows and current.rows[0][0] <= covers_until:
                current.rows.popleft()
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
        previous, _, previous_id = await self._summary_version(channel_id, persona_id)
        outcome = await summarize(self.llm, previous, [line for _, line in lines])
        if outcome is None:
            return False
        text, result = outcome
        await self._account_summary(channel_id, result)
        saved = await self.store.save_fold(
            channel_id,
            persona_id,
            text,
            covers_until,
            previous_id=previous_id,
            folded=[row_id for row_id, _ in lines],
        )
        if saved is None:
            self._fold_refused(channel_id)
            return False
        key = channel_id if persona_id is None else (channel_id, persona_id)
        self._summaries[key] = (text, covers_until, saved.id)
        return True

    def _fold_refused(self, channel_id: int) -> None:
        """The store refused a fold: memory changed under it. Start over from what remains."""
        log.info("Channel %s: memory changed while folding; the summary was dropped", channel_id)
        self.invalidate_channel(channel_id)

    async def _fold_for_late_joiners(
        self, channel_id: int, rows: Sequence[tuple[int, HistoryLine]], covers_until: int
    ) -> bool:
        """Before the window moves past `covers_until`, summarise each late joiner's part."""
        for persona_id, joined in (await self._joined(channel_id)).items():
            if joined <= 0 or joined >= covers_until:
                continue
            _, covered = await self._summary(channel_id, persona_id)
            start = max(joined, covered or 0)
            seen = [(rid, line) for rid, line in rows if start < rid <= covers_until]
            if seen and not await self._fold_into(channel_id, persona_id, seen, covers_until):
                return False
        return True

    async def _account_summary(self, channel_id: int, result: ChatResult | None) -> None:
        """Summary requests cost money too: they go to the ledger without a player or persona."""
        if result is None or result.usage is None:
            return
        config = await self.channel(channel_id)
        await self._record_usage(
            guild_id=config.guild_id if config else None,
            channel_id=channel_id,
            user_id=None,
            persona_id=None,
            usage=result.usage,
        )

    async def close(self, grace: float = 5.0) -> None:
        """Let running summaries finish (up to `grace` s), then cancel them."""
        tasks = list(self._summarizing.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
