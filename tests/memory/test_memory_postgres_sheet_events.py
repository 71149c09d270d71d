"""Processes sharing one PostgreSQL database hear each other save and clear player sheets.

Each PostgreSQL store stands for one bot process. A global sheet is used in every guild, so a
sheet changed in one process must reach the caches of the others.
"""

import json

import asyncpg
import pytest

from bot.memory.postgres.events import CHANNEL
from bot.models import PlayerSheet

from .helpers import GUILD
from .test_memory_postgres_forget_events import eventually, open_pg

pytestmark = pytest.mark.postgres

SECRET = "LyraSang-5c1e"


async def test_a_sheet_saved_or_cleared_in_one_process_reaches_the_others(pg_url: str) -> None:
    async with await open_pg(pg_url) as first, await open_pg(pg_url) as second:
        sheets_first: list[int | None] = []
        sheets_second: list[int | None] = []
        forgotten_second: list[int | None] = []
        await first.on_sheet_changed(sheets_first.append)
        await second.on_sheet_changed(sheets_second.append)
        await second.on_forgotten(forgotten_second.append)
        assert second.backend.listener.connections == 1  # both kinds share one listening connection

        await first.save_sheet(PlayerSheet(7, "Lyra", SECRET), None)
        await first.save_sheet(PlayerSheet(2**62, "Bram"), GUILD)  # Discord ids are 64-bit
        assert await first.clear_sheet(7, None)
        await eventually(lambda: sheets_second == [7, 2**62, 7])

        await second.save_sheet(PlayerSheet(8, "Cora"), GUILD)
        await eventually(lambda: sheets_first == [8])
        await first.forget_user(9)  # a marker: notifications arrive in commit order
        await eventually(lambda: forgotten_second == [9])
        assert sheets_second == [7, 2**62, 7]  # a store never hears its own; forgets go apart
        assert sheets_first == [8]
        assert await second.get_sheet(8, GUILD) == PlayerSheet(8, "Cora")


async def test_clearing_no_sheet_notifies_no_one(pg_url: str) -> None:
    async with await open_pg(pg_url) as first, await open_pg(pg_url) as second:
        heard: list[int | None] = []
        await second.on_sheet_changed(heard.append)

        assert not await first.clear_sheet(7, GUILD)
        await first.save_sheet(PlayerSheet(8, "Cora"), None)  # a marker, as above

        await eventually(lambda: heard == [8])


async def test_the_sheet_notification_carries_only_the_user_id_schema_and_sender(
    pg_url: str,
) -> None:
    payloads: list[str] = []
    listener = await asyncpg.connect(pg_url.split("?")[0])
    await listener.add_listener(CHANNEL, lambda *args: payloads.append(args[-1]))
    try:
        async with await open_pg(pg_url) as store:
            await store.save_sheet(PlayerSheet(7, "AriaSheet-5c1e", SECRET), GUILD)
            await store.clear_sheet(7, GUILD)

            await eventually(lambda: len(payloads) == 2)
    finally:
        await listener.close()
    for payload in payloads:
        event = json.loads(payload)
        assert set(event) == {"sheet", "schema", "sender"}
        assert event["sheet"] == 7
        assert "5c1e" not in payload


async def test_after_a_reconnect_sheet_callbacks_hear_that_any_sheet_may_have_changed(
    pg_url: str,
) -> None:
    async with await open_pg(pg_url) as first, await open_pg(pg_url) as second:
        sheets: list[int | None] = []
        forgotten: list[int | None] = []
        await second.on_sheet_changed(sheets.append)
        await second.on_forgotten(forgotten.append)
        pid = second.backend.listener.connection_pid
        admin = await asyncpg.connect(pg_url.split("?")[0])
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            await eventually(lambda: sheets == [None] and forgotten == [None])

            await first.save_sheet(PlayerSheet(7, "Lyra"), None)
            await eventually(lambda: sheets == [None, 7])
        finally:
            await admin.close()
