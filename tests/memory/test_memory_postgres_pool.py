"""The PostgreSQL store's pool and timeouts, and several processes writing at once."""

import asyncio
import time
import uuid

import asyncpg
import pytest

from bot.memory import DatabaseUnavailableError, StoreError, open_store
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD, human

pytestmark = pytest.mark.postgres

TIMEOUT = 10


async def wait_until(condition, timeout: float = TIMEOUT) -> None:
    async def poll() -> None:
        while not await condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def test_pool_runs_calls_in_parallel_up_to_its_size(pg_url: str) -> None:
    name = f"ensemble-{uuid.uuid4().hex[:8]}"
    async with open_store(f"{pg_url}&pool_max_size=3&application_name={name}") as store:
        locker = await asyncpg.connect(pg_url)
        # Not the locker: inside a transaction, pg_stat_activity stays frozen at first read.
        watcher = await asyncpg.connect(pg_url)
        try:
            lock = locker.transaction()
            await lock.start()
            await locker.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
            calls = [asyncio.create_task(store.count_messages(CHANNEL)) for _ in range(6)]

            async def blocked() -> int:
                return await watcher.fetchval(
                    "SELECT COUNT(*) FROM pg_stat_activity "
                    "WHERE application_name = $1 AND wait_event_type = 'Lock'",
                    name,
                )

            async def three_blocked() -> bool:
                return await blocked() == 3

            await wait_until(three_blocked)
            await asyncio.sleep(0.1)
            assert await blocked() == 3  # the other three wait for a free connection
            await lock.rollback()
            assert await asyncio.wait_for(asyncio.gather(*calls), TIMEOUT) == [0] * 6
        finally:
            await locker.close()
            await watcher.close()


async def test_statement_timeout_from_the_url(pg_url: str) -> None:
    # No prepared statements either, as behind PgBouncer.
    async with open_store(f"{pg_url}&statement_timeout=200&statement_cache_size=0") as store:
        admin = await asyncpg.connect(pg_url)
        try:
            async with admin.transaction():
                await admin.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
                started = time.perf_counter()
                with pytest.raises(DatabaseUnavailableError, match="statement timeout"):
                    await asyncio.wait_for(store.add_message(human(1001)), TIMEOUT)
                assert time.perf_counter() - started < 2
        finally:
            await admin.close()
        stored = await asyncio.wait_for(store.add_message(human(1001)), TIMEOUT)
        assert stored.discord_id == 1001


async def test_processes_writing_the_same_rows_at_once(pg_url: str) -> None:
    async with open_store(pg_url) as one, open_store(pg_url) as two:
        processes = [one, two] * 5

        summaries = await asyncio.wait_for(
            asyncio.gather(
                *(s.save_summary(CHANNEL, None, f"v{n}", n) for n, s in enumerate(processes))
            ),
            TIMEOUT,
        )
        assert sorted(summary.version for summary in summaries) == list(range(1, 11))

        reply = await one.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
        await one.finish_reply(reply, "first", ReplyStatus.COMPLETE)
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    s.add_alternative(reply, f"take {n}", ReplyStatus.COMPLETE)
                    for n, s in enumerate(processes)
                )
            ),
            TIMEOUT,
        )
        texts = {(await two.select_alternative(reply, i)).text for i in range(11)}
        assert texts == {"first", *(f"take {n}" for n in range(10))}

        same_message = await asyncio.wait_for(
            asyncio.gather(*(s.add_message(human(1001, "hi")) for s in processes)), TIMEOUT
        )
        assert len({message.id for message in same_message}) == 1
        assert await one.count_messages(CHANNEL) == 2
        assert await two.integrity_check() == []


async def test_one_lease_holder_among_many_processes(pg_url: str) -> None:
    stores = [await open_store(pg_url) for _ in range(6)]
    try:
        won = await asyncio.wait_for(
            asyncio.gather(
                *(s.try_acquire_lease("channel:600", f"bot-{n}", 30) for n, s in enumerate(stores))
            ),
            TIMEOUT,
        )
    finally:
        for store in stores:
            await store.close()

    assert won.count(True) == 1


async def test_integrity_check_reports_broken_alternatives(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        reply = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
        await store.finish_reply(reply, "one", ReplyStatus.COMPLETE, [2001, 2002])
        await store.add_alternative(reply, "two", ReplyStatus.COMPLETE)
        assert await store.integrity_check() == []
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute("DELETE FROM swipes WHERE idx = 0")
            await conn.execute("UPDATE messages SET discord_id = NULL, swipe_index = 7")
        finally:
            await conn.close()

        problems = await store.integrity_check()

    assert problems == [
        f"alternative on show out of range: message ids [{reply}]",
        f"alternatives missing or extra: message ids [{reply}]",
        f"Discord parts without a first Discord id: message ids [{reply}]",
    ]


async def test_text_postgresql_cannot_hold_is_refused_clearly(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        with pytest.raises(StoreError, match="NUL"):
            await store.add_message(human(1001, "nul \x00 inside"))
        assert await store.count_messages(CHANNEL) == 0
