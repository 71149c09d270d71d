"""Several processes share PostgreSQL: starting one must not cut the others' live replies."""

import pytest

from bot.memory import open_store
from bot.memory.postgres import STALE_STREAM_S
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD, FakeClock

pytestmark = pytest.mark.postgres


async def test_only_replies_streaming_for_too_long_are_interrupted(
    pg_url: str, clock: FakeClock
) -> None:
    async with open_store(pg_url, clock=clock) as running:
        abandoned = await running.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
        await running.save_progress(abandoned, "Half a sent", [2001])
        swiped = await running.begin_reply(CHANNEL, GUILD, "bard", "Bard")
        await running.finish_reply(swiped, "Done.", ReplyStatus.COMPLETE)
        clock.advance(STALE_STREAM_S + 1)
        # An old reply regenerated just now, and a brand new one: both live.
        await running.add_alternative(swiped, "Regenerat", ReplyStatus.STREAMING)
        live = await running.begin_reply(CHANNEL, GUILD, "sage", "Sage")

        async with open_store(pg_url, clock=clock) as other_process:
            seen = {
                reply: await other_process.get_message(reply) for reply in (abandoned, swiped, live)
            }
        statuses = {reply: message.status for reply, message in seen.items() if message}
        assert statuses == {
            abandoned: ReplyStatus.INTERRUPTED,
            swiped: ReplyStatus.STREAMING,
            live: ReplyStatus.STREAMING,
        }
        # The process that owns the live replies finishes them as usual.
        done = await running.finish_reply(live, "Wisdom.", ReplyStatus.COMPLETE)
        assert (done.text, done.status) == ("Wisdom.", ReplyStatus.COMPLETE)
        first_take = await running.select_alternative(swiped, 0)
        assert (first_take.text, first_take.status) == ("Done.", ReplyStatus.COMPLETE)
        assert (await running.select_alternative(swiped, 1)).status is ReplyStatus.STREAMING

    clock.advance(STALE_STREAM_S + 1)
    async with open_store(pg_url, clock=clock) as restarted:
        regenerated = await restarted.select_alternative(swiped, 1)
        assert (regenerated.text, regenerated.status) == ("Regenerat", ReplyStatus.INTERRUPTED)
        assert (await restarted.select_alternative(swiped, 0)).status is ReplyStatus.COMPLETE
        assert await restarted.integrity_check() == []
