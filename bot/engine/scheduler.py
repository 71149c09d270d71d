"""Per-channel turn scheduling: one reply at a time, lulls, and coalesced triggers. Pure asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

log = logging.getLogger(__name__)


class TriggerKind(StrEnum):
    """Why a turn is wanted."""

    ADDRESSED = "addressed"
    LULL = "lull"
    CHAIN = "chain"


@dataclass(frozen=True, slots=True)
class Trigger:
    """A request for the scene to continue in one channel."""

    kind: TriggerKind
    persona_id: str | None = None
    chain_left: int = 0
    requested_at: float = field(default_factory=time.monotonic)

    def merge(self, newer: Trigger) -> Trigger:
        """Coalesce two pending triggers: an explicit address is never lost to a later lull."""
        if newer.kind is TriggerKind.ADDRESSED or self.kind is not TriggerKind.ADDRESSED:
            return replace(newer, requested_at=min(self.requested_at, newer.requested_at))
        return self


RunTurn = Callable[[int, Trigger], Awaitable[None]]
T = TypeVar("T")


class _Channel:
    __slots__ = ("due", "pending", "wake", "worker")

    def __init__(self) -> None:
        self.pending: Trigger | None = None
        self.due = 0.0
        self.wake = asyncio.Event()
        self.worker: asyncio.Task[None] | None = None


class TurnScheduler:
    """Runs `run_turn(channel_id, trigger)` at most once at a time per channel.

    Triggers that arrive while a turn runs are merged into one pending trigger that runs next,
    so nothing a player writes meanwhile is lost and the channel never answers twice in
    parallel. Different channels run independently.
    """

    def __init__(self, run_turn: RunTurn, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._run_turn = run_turn
        self._clock = clock
        self._channels: dict[int, _Channel] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._closed = False

    def _lock(self, channel_id: int) -> asyncio.Lock:
        lock = self._locks.get(channel_id)
        if lock is None:
            lock = self._locks[channel_id] = asyncio.Lock()
        return lock

    async def run_now(self, channel_id: int, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` as the channel's turn (waits for a running turn; blocks the next one)."""
        async with self._lock(channel_id):
            return await work()

    def trigger(self, channel_id: int, trigger: Trigger, *, delay: float = 0.0) -> None:
        """Ask for a turn in `delay` seconds (a later trigger may push a lull further out)."""
        if self._closed:
            return
        state = self._channels.get(channel_id)
        if state is None:
            state = self._channels[channel_id] = _Channel()
        due = self._clock() + delay
        if state.pending is None:
            state.pending, state.due = trigger, due
        else:
            state.pending = state.pending.merge(trigger)
            # An explicit address keeps its (earlier) time; a lull restarts with every message.
            is_addressed = state.pending.kind is TriggerKind.ADDRESSED
            state.due = min(state.due, due) if is_addressed else due
        state.wake.set()
        if state.worker is None or state.worker.done():
            state.worker = asyncio.create_task(self._work(channel_id, state))

    def postpone(self, channel_id: int, delay: float) -> None:
        """Push a pending lull turn out by `delay` seconds (someone is typing or wrote)."""
        state = self._channels.get(channel_id)
        if state is None or state.pending is None or state.pending.kind is not TriggerKind.LULL:
            return
        state.due = max(state.due, self._clock() + delay)
        state.wake.set()

    def cancel(self, channel_id: int) -> None:
        """Drop any pending (not yet running) turn of a channel."""
        state = self._channels.get(channel_id)
        if state is not None:
            state.pending = None
            state.wake.set()

    def cancel_kind(self, channel_id: int, kind: TriggerKind) -> None:
        """Drop the pending turn only if it is of `kind` (a human wrote: no more chaining)."""
        state = self._channels.get(channel_id)
        if state is not None and state.pending is not None and state.pending.kind is kind:
            state.pending = None
            state.wake.set()

    def pending_count(self) -> int:
        """Turns waiting to run, over all channels."""
        return sum(1 for state in self._channels.values() if state.pending is not None)

    def has_pending(self, channel_id: int) -> bool:
        """Whether a turn is waiting to run in the channel."""
        state = self._channels.get(channel_id)
        return state is not None and state.pending is not None

    def is_busy(self, channel_id: int) -> bool:
        """Whether a turn is running in the channel right now."""
        return self._lock(channel_id).locked()

    async def _work(self, channel_id: int, state: _Channel) -> None:
        while state.pending is not None and not self._closed:
            delay = state.due - self._clock()
            if delay > 0:
                state.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.wake.wait(), timeout=delay)
                continue
            async with self._lock(channel_id):
                if state.pending is None or state.due > self._clock():
                    continue  # changed while we waited for a manual turn to finish
                trigger, state.pending = state.pending, None
                try:
                    await self._run_turn(channel_id, trigger)
                except Exception:
                    log.exception("Turn failed in channel %s", channel_id)
        if state.pending is None and self._channels.get(channel_id) is state:
            del self._channels[channel_id]

    async def close(self, grace: float = 10.0) -> None:
        """Stop scheduling; let running turns finish storing (up to `grace` s), then cancel."""
        self._closed = True
        workers = [s.worker for s in self._channels.values() if s.worker is not None]
        for state in self._channels.values():
            state.pending = None
            state.wake.set()
        running = [w for w in workers if not w.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            for worker in late:
                worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
