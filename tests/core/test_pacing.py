"""The send/edit pacer: bursts allowed, never more than the limit in any window."""

import asyncio

from bot.pacing import EditPacer, SlidingWindow


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.now += seconds
        await asyncio.sleep(0)


def test_sliding_window_allows_a_burst_then_waits_for_the_oldest_to_expire():
    clock = Clock()
    window = SlidingWindow(5, 5.0, margin=0.1, clock=clock)
    for _ in range(5):
        assert window.free() > 0
        window.take()
        clock.now += 0.1
    assert window.free() == 0
    assert abs(window.wait_time() - (5.1 - 0.5)) < 1e-9
    clock.now += window.wait_time()
    assert window.free() == 1


async def test_required_takes_never_exceed_the_limit_in_any_window():
    clock = Clock()
    pacer = EditPacer(channel_limit=5, channel_window=5.0, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(17):
        await pacer.take(1)
        times.append(clock.now)
    for i, start in enumerate(times):
        assert len([t for t in times[i:] if t - start < 5.0]) <= 5
    assert times[:5] == [100.0] * 5  # the first five go out at once


async def test_optional_edits_keep_a_reserve_for_the_final_edit():
    clock = Clock()
    pacer = EditPacer(
        channel_limit=5, channel_window=5.0, reserve=1, clock=clock, sleep=clock.sleep
    )
    await pacer.take(7)
    taken = sum(pacer.try_take_optional(7) for _ in range(10))
    assert taken == 3  # 1 required + 3 optional, one slot stays free
    await pacer.take(7)  # the final edit goes out without waiting
    assert clock.now == 100.0


async def test_channels_do_not_share_budgets_but_share_the_global_limit():
    clock = Clock()
    pacer = EditPacer(global_limit=10, global_window=1.0, clock=clock, sleep=clock.sleep)
    for channel in range(10):
        await pacer.take(channel)
    assert clock.now == 100.0
    await pacer.take(99)
    assert clock.now > 100.0  # the eleventh request this second waits for the bot-wide budget


def test_forget_drops_idle_channels_only():
    clock = Clock()
    pacer = EditPacer(clock=clock)
    assert pacer.try_take_optional(3)
    pacer.forget(3)
    assert 3 in pacer._channels
    clock.now += 10
    pacer.forget(3)
    assert 3 not in pacer._channels


async def test_idle_channels_are_pruned_once_many_are_tracked(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("bot.pacing.PRUNE_ABOVE", 3)
    pacer = EditPacer(clock=clock, sleep=clock.sleep)
    for channel in range(3):
        await pacer.take(channel)
    clock.now += 10  # their windows are empty again
    await pacer.take(1)  # busy again, so it stays
    await pacer.take(99)  # a fourth channel triggers the sweep
    assert sorted(pacer._channels) == [1, 99]
