"""Send/edit pacing that stays inside Discord's rate limits without waiting needlessly.

Discord allows about 5 message creates/edits per 5 s in one channel and 50 requests per second
per bot. Each channel spends its budget as a sliding window: a burst of up to `limit` requests
goes out at once, and a request is never sent while `limit` others sit in the last `window`
seconds. A sliding window (rather than a refilling token bucket) is used because it is safe
against both fixed-window and sliding-window servers: a bucket refilling at limit/window per
second admits up to 2 x limit requests in one window and earns 429s.

Intermediate streaming edits are optional: they only take a slot while `reserve` slots stay
free, so the first text and the final edit of a reply almost never wait.

The bot-wide budget only applies to requests made with the bot's token: webhook executions and
edits (how personas speak) are authorised by the webhook's own token and do not count.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

PRUNE_ABOVE = 1024
"""Channels tracked before idle ones (nothing in their window) are dropped."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindow:
    """At most `limit` events in any span of `window` seconds (plus a safety margin)."""

    __slots__ = ("_clock", "_events", "limit", "window")

    def __init__(self, limit: int, window: float, *, margin: float = 0.1, clock: Clock) -> None:
        self.limit = limit
        self.window = window + margin if window > 0 else 0.0
        self._events: deque[float] = deque()
        self._clock = clock

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        events = self._events
        while events and events[0] <= horizon:
            events.popleft()

    def free(self) -> int:
        """How many events could happen right now."""
        if self.window <= 0:
            return self.limit
        self._expire(self._clock())
        return self.limit - len(self._events)

    def wait_time(self) -> float:
        """Seconds until one more event is allowed (0 when allowed now)."""
        if self.free() > 0:
            return 0.0
        return max(0.0, self._events[0] + self.window - self._clock())

    def take(self) -> None:
        """Record one event now (the caller checked `free()`)."""
        if self.window > 0:
            self._events.append(self._clock())


class EditPacer:
    """Shares the per-channel and per-bot request budgets among all streams."""

    def __init__(
        self,
        *,
        channel_limit: int = 5,
        channel_window: float = 5.0,
        global_limit: int = 45,
        global_window: float = 1.0,
        reserve: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._channel_limit = channel_limit
        self._channel_window = channel_window
        self._reserve = min(reserve, max(channel_limit - 1, 0))
        self._global = SlidingWindow(global_limit, global_window, margin=0.05, clock=clock)
        self._channels: dict[int, SlidingWindow] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._clock = clock
        self._sleep = sleep

    def _window(self, channel_id: int) -> SlidingWindow:
        window = self._channels.get(channel_id)
        if window is None:
            if len(self._channels) >= PRUNE_ABOVE:
                for idle in list(self._channels):
                    self.forget(idle)
            window = SlidingWindow(self._channel_limit, self._channel_window, clock=self._clock)
            self._channels[channel_id] = window
        return window

    def try_take_optional(self, channel_id: int, *, bot_token: bool = True) -> bool:
        """Take a slot for a nice-to-have edit, keeping the reserve free for final edits."""
        window = self._window(channel_id)
        lock = self._locks.get(channel_id)
        if lock is not None and lock.locked():
            return False
        if window.free() > self._reserve and (not bot_token or self._global.free() > 0):
            window.take()
            if bot_token:
                self._global.take()
            return True
        return False

    def optional_wait(self, channel_id: int, *, bot_token: bool = True) -> float:
        """Seconds until an optional edit could be taken (an estimate for sleeping)."""
        window = self._window(channel_id)
        if window.free() > self._reserve:
            return self._global.wait_time() if bot_token else 0.0
        return max(window.wait_time(), 0.05)

    async def take_spare(self, channel_id: int, *, bot_token: bool = True) -> None:
        """Wait for a slot that leaves room for a whole reply (first text and final edit).

        For housekeeping such as removing old buttons: lowest priority, never delays a reply.
        """
        window = self._window(channel_id)
        while True:
            lock = self._locks.get(channel_id)
            busy = lock is not None and lock.locked()
            room = not busy and window.free() > self._reserve + 1
            if room and (not bot_token or self._global.free() > 0):
                window.take()
                if bot_token:
                    self._global.take()
                return
            await self._sleep(max(window.wait_time(), 0.25))

    async def take(self, channel_id: int, *, bot_token: bool = True) -> None:
        """Wait for a slot for a required request (first text, final edit, new message)."""
        window = self._window(channel_id)
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            while True:
                delay = window.wait_time()
                if bot_token:
                    delay = max(delay, self._global.wait_time())
                if delay <= 0:
                    window.take()
                    if bot_token:
                        self._global.take()
                    return
                await self._sleep(delay)

    def forget(self, channel_id: int) -> None:
        """Drop a channel's state once it has been idle (keeps memory bounded)."""
        window = self._channels.get(channel_id)
        lock = self._locks.get(channel_id)
        if window is not None and window.free() == window.limit and not (lock and lock.locked()):
            self._channels.pop(channel_id, None)
            self._locks.pop(channel_id, None)
