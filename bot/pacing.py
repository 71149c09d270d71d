"""Send/edit pacing that stays inside Discord's rate limits without waiting needlessly.

Discord allows about 5 message creates/edits per 5 s in one channel and 50 requests per second
per bot. Webhook executions and edits (how personas speak) also meet a hidden limit of about 30
per 60 s per channel, which no rate-limit header announces. Each limit is a sliding window: a
burst of up to `limit` requests goes out at once, and a request is never sent while `limit`
others sit in the last `window` seconds. A sliding window (rather than a refilling token
bucket) is used because it is safe against both fixed-window and sliding-window servers: a
bucket refilling at limit/window per second admits up to 2 x limit requests in one window and
earns 429s.

A request counts against every window that applies to it:
- the channel's edit window, always;
- the channel's webhook window, for requests made with a webhook's token (`bot_token=False`);
- the bot-wide window, for requests made with the bot's token (webhooks are authorised by their
  own token and do not count there).

Intermediate streaming edits are optional: they only take a slot while `reserve` slots stay
free in every per-channel window, so the first text and the final edit of a reply almost never
wait. Housekeeping (`take_spare`) keeps `reserve + 1` free. Required requests wait until every
window that applies has room. Optional webhook edits also keep a steady pace once a burst of
`WEBHOOK_BURST` is spent, spaced so the window never fills (about 2.6 s apart by default):
without it, a scene streaming for a minute would spend its 30 slots in about 30 s and then show
no progress for 30 s more.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

PRUNE_ABOVE = 1024
"""Channels tracked before idle ones (nothing in their windows) are dropped."""

WEBHOOK_BURST = 5
"""Optional webhook edits a channel may spend at full speed before they slow to a steady pace."""

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

    def idle(self) -> bool:
        """Nothing in the window: forgetting it changes nothing."""
        return self.free() >= self.limit

    def wait_time(self, keep: int = 0) -> float:
        """Seconds until one more event is allowed with `keep` slots still free after it."""
        keep = max(0, min(keep, self.limit - 1))
        missing = keep + 1 - self.free()
        if missing <= 0:
            return 0.0
        # The window holds at least `missing` events, or `free()` would be larger.
        return max(0.0, self._events[missing - 1] + self.window - self._clock())

    def has_room(self, keep: int = 0) -> bool:
        """Whether one more event fits now with `keep` slots still free (capped at limit - 1)."""
        return self.free() > max(0, min(keep, self.limit - 1))

    def steady_wait(self, burst: int, spacing: float) -> float:
        """Seconds until the next event keeps a steady pace: once `burst` events sit in the
        window, events follow each other `spacing` seconds apart.
        """
        if self.window <= 0 or self.free() > self.limit - burst:
            return 0.0
        return max(0.0, self._events[-1] + spacing - self._clock())

    def take(self) -> None:
        """Record one event now (the caller checked `free()`)."""
        if self.window > 0:
            self._events.append(self._clock())


class _Channel:
    """One channel's windows and the lock that orders its required requests."""

    __slots__ = ("edits", "lock", "webhooks")

    def __init__(self, edits: SlidingWindow, webhooks: SlidingWindow | None) -> None:
        self.edits = edits
        self.webhooks = webhooks
        self.lock = asyncio.Lock()

    def windows(self, *, bot_token: bool) -> tuple[SlidingWindow, ...]:
        """The per-channel windows a request counts against."""
        if bot_token or self.webhooks is None:
            return (self.edits,)
        return (self.edits, self.webhooks)

    def idle(self) -> bool:
        """No window holds an event and no required request is queued."""
        if self.lock.locked():
            return False
        return self.edits.idle() and (self.webhooks is None or self.webhooks.idle())


class _Applicable:
    """The windows one request counts against.

    Per-channel windows keep the asked-for reserve free; shared ones (the bot-wide budget) only
    need one free slot.
    """

    __slots__ = ("channel", "shared")

    def __init__(
        self, channel: tuple[SlidingWindow, ...], shared: tuple[SlidingWindow, ...]
    ) -> None:
        self.channel = channel
        self.shared = shared

    def has_room(self, keep: int) -> bool:
        return all(w.has_room(keep) for w in self.channel) and all(
            w.has_room() for w in self.shared
        )

    def wait_time(self, keep: int) -> float:
        waits = [w.wait_time(keep) for w in self.channel]
        waits.extend(w.wait_time() for w in self.shared)
        return max(waits, default=0.0)

    def take(self) -> None:
        for window in self.channel:
            window.take()
        for window in self.shared:
            window.take()


class EditPacer:
    """Shares the per-channel, per-channel-webhook and per-bot budgets among all streams."""

    def __init__(
        self,
        *,
        channel_limit: int = 5,
        channel_window: float = 5.0,
        webhook_channel_limit: int = 30,
        webhook_channel_window: float = 60.0,
        global_limit: int = 45,
        global_window: float = 1.0,
        reserve: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._channel_limit = channel_limit
        self._channel_window = channel_window
        self._webhook_limit = webhook_channel_limit
        self._webhook_window = webhook_channel_window
        self._reserve = min(reserve, max(channel_limit - 1, 0))
        # After the burst, space optional webhook edits so that the slots left (minus the
        # reserve and one for a required request) last the whole window: it never fills up.
        self._webhook_burst = max(1, min(WEBHOOK_BURST, webhook_channel_limit - self._reserve))
        self._webhook_room = max(webhook_channel_limit - self._reserve - 1 - self._webhook_burst, 1)
        self._global = SlidingWindow(global_limit, global_window, margin=0.05, clock=clock)
        self._channels: dict[int, _Channel] = {}
        self._clock = clock
        self._sleep = sleep

    def _channel(self, channel_id: int) -> _Channel:
        state = self._channels.get(channel_id)
        if state is None:
            if len(self._channels) >= PRUNE_ABOVE:
                for idle in list(self._channels):
                    self.forget(idle)
            edits = SlidingWindow(self._channel_limit, self._channel_window, clock=self._clock)
            webhooks = None
            if self._webhook_limit > 0 and self._webhook_window > 0:
                webhooks = SlidingWindow(
                    self._webhook_limit, self._webhook_window, clock=self._clock
                )
            state = self._channels[channel_id] = _Channel(edits, webhooks)
        return state

    def _applicable(self, state: _Channel, bot_token: bool) -> _Applicable:
        shared = (self._global,) if bot_token else ()
        return _Applicable(state.windows(bot_token=bot_token), shared)

    def _steady_wait(self, state: _Channel, bot_token: bool) -> float:
        """Pacing of optional webhook edits: a burst, then a pace the window never runs out at."""
        if bot_token or state.webhooks is None:
            return 0.0
        spacing = state.webhooks.window / self._webhook_room
        return state.webhooks.steady_wait(self._webhook_burst, spacing)

    def try_take_optional(self, channel_id: int, *, bot_token: bool = True) -> bool:
        """Take a slot for a nice-to-have edit, keeping the reserve free for final edits."""
        state = self._channel(channel_id)
        if state.lock.locked() or self._steady_wait(state, bot_token) > 0:
            return False
        windows = self._applicable(state, bot_token)
        if windows.has_room(self._reserve):
            windows.take()
            return True
        return False

    def optional_wait(self, channel_id: int, *, bot_token: bool = True) -> float:
        """Seconds until an optional edit could be taken (an estimate for sleeping)."""
        state = self._channel(channel_id)
        channel = _Applicable(state.windows(bot_token=bot_token), ())
        delay = max(channel.wait_time(self._reserve), self._steady_wait(state, bot_token))
        if delay > 0:
            return max(delay, 0.05)
        return self._global.wait_time() if bot_token else 0.0

    async def take_spare(self, channel_id: int, *, bot_token: bool = True) -> None:
        """Wait for a slot that leaves room for a whole reply (first text and final edit).

        For housekeeping such as removing old buttons: lowest priority, never delays a reply.
        """
        keep = self._reserve + 1
        while True:
            state = self._channel(channel_id)  # looked up again: it may have been forgotten
            windows = self._applicable(state, bot_token)
            if not state.lock.locked() and windows.has_room(keep):
                windows.take()
                return
            await self._sleep(max(windows.wait_time(keep), 0.25))

    async def take(self, channel_id: int, *, bot_token: bool = True) -> None:
        """Wait for a slot for a required request (first text, final edit, new message)."""
        state = self._channel(channel_id)
        windows = self._applicable(state, bot_token)
        async with state.lock:  # a locked channel is never forgotten
            while True:
                delay = windows.wait_time(0)
                if delay <= 0:
                    windows.take()
                    return
                await self._sleep(delay)

    def forget(self, channel_id: int) -> None:
        """Drop a channel's state once it has been idle (keeps memory bounded)."""
        state = self._channels.get(channel_id)
        if state is not None and state.idle():
            del self._channels[channel_id]
