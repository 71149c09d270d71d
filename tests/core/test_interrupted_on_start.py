"""At start, replies a crash left streaming are marked interrupted with their text kept."""

from pathlib import Path

from bot.memory import open_store
from bot.models import ReplyStatus
from bot.services import STALE_STREAM_S, interrupt_abandoned_replies


async def test_a_lone_process_interrupts_every_unfinished_reply(tmp_path: Path) -> None:
    async with open_store(tmp_path / "memory.sqlite3") as store:
        reply = await store.begin_reply(600, 500, "narrator", "Narrator")
        await store.save_progress(reply, "The storm rol", [900001, 900002])
        done = await store.begin_reply(600, 500, "bard", "Bard")
        await store.finish_reply(done, "Sung.", ReplyStatus.COMPLETE)

        assert await interrupt_abandoned_replies(store, shared=False) == 1

        cut = await store.get_by_discord_id(900002)
        assert cut is not None
        assert (cut.id, cut.text, cut.status) == (reply, "The storm rol", ReplyStatus.INTERRUPTED)
        assert cut.discord_ids == (900001, 900002)
        assert await store.unfinished_replies() == []
        assert await interrupt_abandoned_replies(store, shared=False) == 0


async def test_a_shared_memory_leaves_other_processes_live_replies(tmp_path: Path) -> None:
    now = 1_700_000_000.0
    clock = [now - STALE_STREAM_S - 1]
    async with open_store(tmp_path / "memory.sqlite3", clock=lambda: clock[0]) as store:
        old = await store.begin_reply(600, 500, "narrator", "Narrator")
        clock[0] = now
        live = await store.begin_reply(601, 500, "bard", "Bard")

        assert await interrupt_abandoned_replies(store, shared=True, now=now) == 1

        assert [r.id for r in await store.unfinished_replies()] == [live]
        gone = await store.get_message(old)
        assert gone is not None
        assert gone.status is ReplyStatus.INTERRUPTED
