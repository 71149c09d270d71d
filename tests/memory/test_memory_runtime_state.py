"""Small additions every backend keeps alike: runtime state, usage flags, failed replies."""

import pytest

from bot.memory import NotFoundError, Store, UsageRecord
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD, FakeClock


async def test_runtime_state_is_kept_replaced_and_deleted(store: Store, reopen) -> None:
    assert await store.get_state("dialect:minimax/m2-her") is None
    await store.set_state("dialect:minimax/m2-her", "flat")
    await store.set_state("dialect:minimax/m2-her", "native")
    await store.set_state("other ✨", "")
    await store.close()

    async with reopen() as restarted:
        assert await restarted.get_state("dialect:minimax/m2-her") == "native"
        assert await restarted.get_state("other ✨") == ""
        await restarted.set_state("dialect:minimax/m2-her", None)
        await restarted.set_state("never set", None)
        assert await restarted.get_state("dialect:minimax/m2-her") is None
        assert await restarted.get_state("other ✨") == ""


async def test_usage_flags_are_recorded_and_cached_tokens_summed(store: Store) -> None:
    await store.record_usage(UsageRecord(GUILD, CHANNEL, 7, "narrator", 1000, 50, 800))
    await store.record_usage(
        UsageRecord(GUILD, CHANNEL, 7, "narrator", 500, 10, 100, flags="output_sensitive:2")
    )

    report = await store.usage_report(GUILD)
    assert (report.total.prompt_tokens, report.total.cached_tokens) == (1500, 900)
    async with store.backend.connection() as conn:
        flags = [row[0] for row in await conn.fetch("SELECT flags FROM usage_ledger ORDER BY id")]
    assert flags == ["", "output_sensitive:2"]


async def test_a_reply_that_produced_nothing_is_stored_failed(
    store: Store, clock: FakeClock
) -> None:
    empty = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    record = await store.finish_reply(empty, "", ReplyStatus.FAILED)
    assert (record.text, record.status) == ("", ReplyStatus.FAILED)

    retried = await store.add_alternative(empty, "It works now.", ReplyStatus.COMPLETE)
    assert (retried.swipe_index, retried.swipe_count) == (1, 2)
    again = await store.add_alternative(empty, "", ReplyStatus.FAILED)
    assert again.status is ReplyStatus.FAILED
    first = await store.select_alternative(empty, 0)
    assert (first.text, first.status) == ("", ReplyStatus.FAILED)
    # window() returns failed replies like any other; callers filter statuses themselves.
    assert [m.status for m in await store.window(CHANNEL, limit=5)] == [ReplyStatus.FAILED]
    assert await store.integrity_check() == []
    with pytest.raises(NotFoundError):
        await store.finish_reply(empty + 1, "", ReplyStatus.FAILED)
