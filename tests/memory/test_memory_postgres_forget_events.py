"""Processes sharing one PostgreSQL database hear each other forget users.

Each PostgreSQL store stands for one bot process: it has its own pool and, once a callback is
registered, its own listening connection.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from bot.memory import Store, StoreError, open_store
from bot.memory.postgres.events import CHANNEL
from bot.models import PlayerSheet

from .helpers import GUILD, human
from .postgres_server import fresh_schema, postgres_url

pytestmark = pytest.mark.postgres

SECRET = "AriaWhispered-91b4"
TIMEOUT = 10.0


async def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait until `check()` holds; fail if it still doesn't after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {timeout}s")
        await asyncio.sleep(0.02)


async def open_pg(url: str) -> Store:
    store = await open_store(url)
    assert store.backend.name == "postgresql"
    return store


async def test_a_forget_in_one_process_reaches_the_others_callbacks(pg_url: str) -> None:
    async with await open_pg(pg_url) as first, await open_pg(pg_url) as second:
        heard_first: list[int | None] = []
        heard_second: list[int | None] = []
        await first.on_forgotten(heard_first.append)
        await second.on_forgotten(heard_second.append)
        await first.add_message(human(1, SECRET, author_id=7))

        await first.forget_user(7)

        await eventually(lambda: heard_second == [7])
        await second.forget_user(8)
        await eventually(lambda: heard_first == [8])
        assert heard_second == [7]  # a store never reports its own forgets


async def test_every_callback_hears_and_a_failing_one_does_not_stop_the_others(
    pg_url: str,
) -> None:
    async with await open_pg(pg_url) as first, await open_pg(pg_url) as second:
        heard: list[int | None] = []

        def broken(user_id: int | None) -> None:
            raise RuntimeError("a callback bug")

        await second.on_forgotten(broken)
        await second.on_forgotten(heard.append)
        assert second.backend.listener.connections == 1  # one listening connection for all

        await first.forget_user(7)
        await first.forget_user(2**62)  # Discord ids are 64-bit

        await eventually(lambda: heard == [7, 2**62])


async def test_the_notification_carries_only_the_user_id_schema_and_sender(pg_url: str) -> None:
    payloads: list[str] = []
    listener = await asyncpg.connect(pg_url.split("?")[0])
    await listener.add_listener(CHANNEL, lambda *args: payloads.append(args[-1]))
    try:
        async with await open_pg(pg_url) as store:
            await store.add_message(human(1, SECRET, author_id=7, author_name="AriaName-91b4"))
            await store.save_sheet(PlayerSheet(7, "AriaSheet-91b4", SECRET), GUILD)

            await store.forget_user(7)

            # The sheet's save sends a notice of its own first (see the sheet events tests).
            await eventually(lambda: len(payloads) == 2)
    finally:
        await listener.close()
    event = json.loads(payloads[1])
    assert set(event) == {"forgotten", "schema", "sender"}
    assert event["forgotten"] == 7
    assert event["schema"] == pg_url.rsplit("search_path=", 1)[1]
    assert not any("91b4" in payload for payload in payloads)


async def test_a_forget_that_fails_notifies_no_one(pg_url: str) -> None:
    async with await open_pg(pg_url) as first, await open_pg(pg_url) as second:
        heard: list[int | None] = []
        await second.on_forgotten(heard.append)
        conn = await asyncpg.connect(pg_url.split("?")[0])
        try:
            # Break the schema under the store so the forget's transaction rolls back.
            schema = pg_url.rsplit("search_path=", 1)[1]
            await conn.execute(f"ALTER TABLE {schema}.pins RENAME TO pins_away")
            with pytest.raises(StoreError, match="pins"):
                await first.forget_user(7)
            await conn.execute(f"ALTER TABLE {schema}.pins_away RENAME TO pins")
        finally:
            await conn.close()
        await first.forget_user(8)  # a marker: notifications arrive in commit order

        await eventually(lambda: heard == [8])


async def test_another_schema_on_the_same_server_hears_nothing(pg_url: str) -> None:
    async with (
        fresh_schema(postgres_url()) as elsewhere_url,
        await open_pg(pg_url) as first,
        await open_pg(pg_url) as second,
        await open_pg(elsewhere_url) as elsewhere,
        await open_pg(elsewhere_url) as elsewhere_too,
    ):
        heard_here: list[int | None] = []
        heard_elsewhere: list[int | None] = []
        await second.on_forgotten(heard_here.append)
        await elsewhere.on_forgotten(heard_elsewhere.append)

        await first.forget_user(7)
        await elsewhere_too.forget_user(9)
        await first.forget_user(8)

        # Each connection gets the notifications in commit order: once the last is in,
        # the others were seen (and skipped) before it.
        await eventually(lambda: heard_here == [7, 8])
        await eventually(lambda: heard_elsewhere == [9])


async def test_the_listener_reconnects_and_reports_a_possible_gap(pg_url: str) -> None:
    async with await open_pg(pg_url) as first, await open_pg(pg_url) as second:
        heard: list[int | None] = []
        await second.on_forgotten(heard.append)
        pid = second.backend.listener.connection_pid
        assert pid is not None
        admin = await asyncpg.connect(pg_url.split("?")[0])
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)

            # Forgets while nobody listened are lost: the callbacks get None (anyone).
            await eventually(lambda: heard == [None])
            assert second.backend.listener.connections == 2
            assert second.backend.listener.connection_pid not in (None, pid)
            await first.forget_user(7)
            await eventually(lambda: heard == [None, 7])

            new_pid = second.backend.listener.connection_pid
            await second.close()
            alive = "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1"
            await eventually_async(lambda: admin.fetchval(alive, new_pid), 0)
        finally:
            await admin.close()


async def eventually_async(query: Callable[[], Awaitable[object]], expected: object) -> None:
    """Wait until awaiting `query()` gives `expected`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while (value := await query()) != expected:
        if loop.time() > deadline:
            raise AssertionError(f"{value!r} is still not {expected!r} after {TIMEOUT}s")
        await asyncio.sleep(0.02)


async def test_a_store_that_never_listens_opens_no_listening_connection(pg_url: str) -> None:
    async with await open_pg(pg_url) as store:
        await store.forget_user(7)
        assert store.backend.listener.connections == 0
        assert store.backend.listener.connection_pid is None
