"""Several processes share PostgreSQL: starting one must not cut the others' live replies."""

import pytest

from bot.memory import open_store
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, FakeClock

pytestmark = pytest.mark.postgres


async def test_opening_a_store_leaves_every_streaming_reply_alone(
    pg_url: str, clock: FakeClock
) -> None:
    async with open_store(pg_url, clock=clock) as running:
        old = await running.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
        await running.save_progress(old, "Half a sent", [2001])
        swiped = await running.begin_reply(CHANNEL, GUILD, "bard", "Bard")
        await running.finish_reply(swiped, "Done.", ReplyStatus.COMPLETE)
        clock.advance(3600)
        await running.add_alternative(swiped, "Regenerat", ReplyStatus.STREAMING)
        live = await running.begin_reply(OTHER_CHANNEL, GUILD, "sage", "Sage")

        async with open_store(pg_url, clock=clock) as other_process:
            seen = [(r.id, r.status) for r in await other_process.unfinished_replies()]
            # The other process owns OTHER_CHANNEL only: it lists just what it must fix.
            own = await other_process.unfinished_replies([OTHER_CHANNEL])
            await other_process.finish_reply(own[0].id, own[0].text, ReplyStatus.INTERRUPTED)
        streaming = ReplyStatus.STREAMING
        assert seen == [(old, streaming), (swiped, streaming), (live, streaming)]
        assert [r.id for r in own] == [live]

        # The process that owns CHANNEL finishes its replies as usual.
        done = await running.finish_reply(old, "Wisdom.", ReplyStatus.COMPLETE)
        assert (done.text, done.status) == ("Wisdom.", ReplyStatus.COMPLETE)
        assert (await running.select_alternative(swiped, 1)).status is ReplyStatus.STREAMING
        interrupted = await running.get_message(live)
        assert interrupted is not None
        assert interrupted.status is ReplyStatus.INTERRUPTED
        assert [r.id for r in await running.unfinished_replies()] == [swiped]
        assert await running.integrity_check() == []
