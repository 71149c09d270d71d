"""Many coroutines on one store, and callers cancelled in the middle of a write."""

import asyncio

import pytest

from bot.memory import Store
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD, human


async def test_concurrent_use_of_one_store(store: Store) -> None:
    async def player(user: int) -> None:
        for n in range(20):
            await store.add_message(human(user * 1000 + n, author_id=user))
            await store.window(CHANNEL, limit=50)

    async def persona(name: str) -> None:
        for _ in range(10):
            reply_id = await store.begin_reply(CHANNEL, GUILD, name, name)
            await store.save_progress(reply_id, "so far")
            await store.add_alternative(reply_id, "again")
            await store.finish_reply(reply_id, "done", ReplyStatus.COMPLETE)

    await asyncio.wait_for(
        asyncio.gather(*(player(u) for u in range(1, 6)), persona("a"), persona("b")), 10
    )

    assert await store.count_messages(CHANNEL) == 5 * 20 + 2 * 10
    replies = [m for m in await store.window(CHANNEL, limit=200) if m.persona_id]
    assert {(m.text, m.status, m.swipe_count) for m in replies} == {
        ("done", ReplyStatus.COMPLETE, 2)
    }
    assert await store.integrity_check() == []


async def test_cancelled_writers_leave_no_open_transaction(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply_id, "start", ReplyStatus.COMPLETE)

    for turns in range(12):
        task = asyncio.create_task(store.add_alternative(reply_id, f"take {turns}"))
        await asyncio.sleep(turns * 0.0001)  # cancel at a different statement each time
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    # Whatever each cancelled call managed to do, the store is consistent and usable.
    current = await store.get_message(reply_id)
    assert current is not None
    texts = [
        (await asyncio.wait_for(store.select_alternative(reply_id, index), 5)).text
        for index in range(current.swipe_count)
    ]
    takes = [f"take {turns}" for turns in range(12)]
    assert texts[0] == "start"
    assert texts[1:] == [take for take in takes if take in texts]
    await asyncio.wait_for(store.add_message(human(1001)), 5)
    assert await store.count_messages(CHANNEL) == 2
    assert await store.integrity_check() == []


async def test_sessions_in_autocommit_do_not_wait_for_each_other(store: Store) -> None:
    # A hundred channels storing a line at once share the connection instead of queueing.
    async with store.backend.connection() as first:
        async with asyncio.timeout(5), store.backend.connection() as second:
            assert await second.fetchval("SELECT 1") == 1
        assert await first.fetchval("SELECT 2") == 2
    added = await asyncio.wait_for(
        asyncio.gather(*(store.add_message(human(9000 + n)) for n in range(100))), 10
    )
    assert len({record.id for record in added}) == 100


async def test_a_line_stored_during_a_failing_transaction_is_kept(store: Store) -> None:
    await store.add_message(human(1, "before"))
    inside, release = asyncio.Event(), asyncio.Event()

    async def failing() -> None:
        async with store.backend.transaction() as conn:
            await conn.execute("DELETE FROM messages")
            inside.set()
            await release.wait()
            raise RuntimeError("the transaction fails after others wrote meanwhile")

    transaction = asyncio.create_task(failing())
    await inside.wait()
    adding = asyncio.create_task(store.add_message(human(2, "during")))
    await asyncio.sleep(0.05)
    release.set()
    with pytest.raises(RuntimeError):
        await transaction
    during = await asyncio.wait_for(adding, 5)
    # Neither rolled back with the failed transaction nor lost: both lines are there.
    assert await store.get_by_discord_id(2) == during
    assert [m.text for m in await store.window(CHANNEL, limit=10)] == ["before", "during"]
