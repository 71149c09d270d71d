"""The per-channel turn scheduler: one turn at a time, merged triggers, lulls."""

import asyncio

from bot.engine.scheduler import Trigger, TriggerKind, TurnScheduler


async def test_triggers_during_a_turn_merge_into_exactly_one_next_turn():
    ran = []
    release = asyncio.Event()

    async def run(channel, trigger):
        ran.append((channel, trigger.kind, trigger.persona_id))
        if len(ran) == 1:
            await release.wait()

    scheduler = TurnScheduler(run)
    scheduler.trigger(1, Trigger(TriggerKind.ADDRESSED, "a"))
    await asyncio.sleep(0.01)
    scheduler.trigger(1, Trigger(TriggerKind.ADDRESSED, "b"))
    scheduler.trigger(1, Trigger(TriggerKind.LULL))
    assert scheduler.is_busy(1)
    release.set()
    await asyncio.sleep(0.05)
    assert ran == [(1, TriggerKind.ADDRESSED, "a"), (1, TriggerKind.ADDRESSED, "b")]
    await scheduler.close()


async def test_lull_restarts_with_each_message_and_postpones_for_typing():
    ran = []

    async def run(channel, trigger):
        ran.append(asyncio.get_running_loop().time())

    scheduler = TurnScheduler(run)
    start = asyncio.get_running_loop().time()
    scheduler.trigger(5, Trigger(TriggerKind.LULL), delay=0.1)
    await asyncio.sleep(0.06)
    scheduler.trigger(5, Trigger(TriggerKind.LULL), delay=0.1)
    await asyncio.sleep(0.06)
    scheduler.postpone(5, 0.1)
    await asyncio.sleep(0.3)
    assert len(ran) == 1
    assert ran[0] - start >= 0.2
    await scheduler.close()


async def test_channels_run_in_parallel():
    started = []
    gate = asyncio.Event()

    async def run(channel, trigger):
        started.append(channel)
        await gate.wait()

    scheduler = TurnScheduler(run)
    for channel in range(3):
        scheduler.trigger(channel, Trigger(TriggerKind.ADDRESSED))
    await asyncio.sleep(0.02)
    assert sorted(started) == [0, 1, 2]
    gate.set()
    await scheduler.close()


async def test_cancel_kind_drops_only_a_pending_chain():
    ran = []

    async def run(channel, trigger):
        ran.append(trigger.kind)

    scheduler = TurnScheduler(run)
    scheduler.trigger(1, Trigger(TriggerKind.CHAIN, "b"), delay=0.05)
    scheduler.cancel_kind(1, TriggerKind.CHAIN)
    scheduler.trigger(2, Trigger(TriggerKind.LULL), delay=0.05)
    scheduler.cancel_kind(2, TriggerKind.CHAIN)
    await asyncio.sleep(0.1)
    assert ran == [TriggerKind.LULL]
    await scheduler.close()


async def test_run_now_waits_for_the_running_turn():
    order = []
    gate = asyncio.Event()

    async def run(channel, trigger):
        order.append("turn-start")
        await gate.wait()
        order.append("turn-end")

    async def manual():
        order.append("manual")
        return 42

    scheduler = TurnScheduler(run)
    scheduler.trigger(1, Trigger(TriggerKind.ADDRESSED))
    await asyncio.sleep(0.01)
    task = asyncio.create_task(scheduler.run_now(1, manual))
    await asyncio.sleep(0.01)
    gate.set()
    assert await task == 42
    assert order == ["turn-start", "turn-end", "manual"]
    await scheduler.close()
