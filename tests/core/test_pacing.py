"""The send/edit pacer: bursts allowed, never more than the limit in any window."""

import asyncio
import itertools

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


def test_wait_time_can_keep_slots_free():
    clock = Clock()
    window = SlidingWindow(3, 10.0, margin=0.0, clock=clock)
    for _ in range(3):
        window.take()
        clock.now += 1.0
    # events at 100, 101, 102; now 103
    assert window.wait_time() == 7.0  # the oldest expires at 110
    assert window.wait_time(keep=1) == 8.0  # two must expire to keep one free after taking
    assert window.wait_time(keep=5) == 9.0  # a reserve can never exceed limit - 1
    assert not window.has_room(keep=0)
    clock.now = 110.0
    assert window.has_room(keep=0) and not window.has_room(keep=1)


def _max_in_any_span(times, span):
    return max(len([t for t in times[i:] if t - start < span]) for i, start in enumerate(times))


async def test_webhook_requests_also_respect_the_webhook_channel_window():
    clock = Clock()
    pacer = EditPacer(
        channel_limit=5,
        channel_window=1.0,
        webhook_channel_limit=6,
        webhook_channel_window=3.0,
        clock=clock,
        sleep=clock.sleep,
    )
    times = []
    for _ in range(20):
        await pacer.take(1, bot_token=False)
        times.append(clock.now)
    assert _max_in_any_span(times, 3.0) <= 6
    assert _max_in_any_span(times, 1.0) <= 5
    assert times[:5] == [100.0] * 5  # the edit window's burst still goes out at once
    assert times[5] > 101.0  # the sixth waits for the edit window...
    assert times[6] >= 103.0  # ...the seventh for the webhook window


async def test_bot_token_requests_ignore_the_webhook_window():
    clock = Clock()
    pacer = EditPacer(
        channel_limit=5,
        channel_window=1.0,
        webhook_channel_limit=6,
        webhook_channel_window=60.0,
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(6):
        await pacer.take(1, bot_token=False)
        clock.now += 1.2
    start = clock.now
    times = []
    for _ in range(10):
        await pacer.take(1)  # the bot's own account: only the 5-per-second window applies
        times.append(clock.now)
    assert times[-1] - start < 3.0
    await pacer.take(1, bot_token=False)  # a webhook write still waits for its window
    assert clock.now >= 100.0 + 60.0


async def test_optional_webhook_edits_keep_the_reserve_in_the_webhook_window():
    clock = Clock()
    pacer = EditPacer(
        channel_limit=50,
        channel_window=1.0,
        webhook_channel_limit=6,
        webhook_channel_window=60.0,
        reserve=1,
        clock=clock,
        sleep=clock.sleep,
    )
    await pacer.take(7, bot_token=False)
    taken = sum(pacer.try_take_optional(7, bot_token=False) for _ in range(10))
    assert taken == 4  # 1 required + 4 optional, one slot of six stays free
    assert pacer.optional_wait(7, bot_token=False) > 59.0
    assert pacer.optional_wait(7, bot_token=True) == 0.0
    assert pacer.try_take_optional(7, bot_token=True)  # the bot's account is not held back
    await pacer.take(7, bot_token=False)  # the final edit goes out without waiting
    assert clock.now == 100.0
    await pacer.take(7, bot_token=False)  # the window is spent now
    assert clock.now >= 160.0


async def test_take_spare_keeps_room_for_a_whole_reply_in_the_webhook_window():
    clock = Clock()
    pacer = EditPacer(
        channel_limit=50,
        channel_window=1.0,
        webhook_channel_limit=6,
        webhook_channel_window=60.0,
        reserve=1,
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(3):
        await pacer.take(7, bot_token=False)
    await pacer.take_spare(7, bot_token=False)  # 2 of 6 left: enough for first and final text
    assert clock.now == 100.0
    await pacer.take_spare(7, bot_token=False)  # only 2 free: waits for the window to drain
    assert clock.now >= 160.0


async def test_take_spare_never_hangs_when_the_limit_is_smaller_than_the_reserve():
    clock = Clock()
    pacer = EditPacer(channel_limit=2, channel_window=1.0, clock=clock, sleep=clock.sleep)
    await asyncio.wait_for(pacer.take_spare(7), timeout=5)
    assert clock.now == 100.0


async def test_a_zero_webhook_limit_turns_the_webhook_window_off():
    clock = Clock()
    pacer = EditPacer(
        channel_limit=5,
        channel_window=1.0,
        webhook_channel_limit=0,
        clock=clock,
        sleep=clock.sleep,
    )
    times = []
    for _ in range(15):
        await pacer.take(1, bot_token=False)
        times.append(clock.now)
    assert _max_in_any_span(times, 3.0) > 6  # only the edit window holds them back
    assert _max_in_any_span(times, 1.0) <= 5


async def test_forget_keeps_a_channel_until_its_webhook_window_is_idle():
    clock = Clock()
    pacer = EditPacer(webhook_channel_limit=30, webhook_channel_window=60.0, clock=clock)
    await pacer.take(3, bot_token=False)
    clock.now += 10  # the edit window is idle, the webhook window is not
    pacer.forget(3)
    assert 3 in pacer._channels
    clock.now += 61
    pacer.forget(3)
    assert 3 not in pacer._channels


async def test_pruning_drops_only_channels_idle_in_every_window(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("bot.pacing.PRUNE_ABOVE", 3)
    pacer = EditPacer(webhook_channel_window=60.0, clock=clock, sleep=clock.sleep)
    await pacer.take(0)
    await pacer.take(1, bot_token=False)  # a persona spoke here
    await pacer.take(2)
    clock.now += 10  # edit windows are empty; channel 1's webhook window is not
    await pacer.take(99)
    assert sorted(pacer._channels) == [1, 99]


async def test_long_webhook_streams_slow_down_steadily_instead_of_stalling():
    clock = Clock()
    pacer = EditPacer(channel_limit=5, channel_window=5.0, clock=clock, sleep=clock.sleep)
    await pacer.take(9, bot_token=False)  # the first text
    edits = [clock.now]
    while clock.now < 100.0 + 180.0:  # three minutes of text arriving without a break
        clock.now += 0.05
        due = clock.now - edits[-1] >= 1.0  # the stream's own one-edit-per-second pace
        if due and pacer.try_take_optional(9, bot_token=False):
            edits.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(edits)]
    assert max(gaps[:3]) < 1.1  # a normal reply still streams at one edit per second
    assert max(gaps) < 3.0  # never a long freeze: the hidden 30-per-60 s window never fills
    for i, start in enumerate(edits):
        in_window = [t for t in edits[i:] if t - start < 60.0]
        assert len(in_window) <= 29  # one slot stays free for a final edit
    await pacer.take(9, bot_token=False)
    assert clock.now - edits[-1] < 3.0
