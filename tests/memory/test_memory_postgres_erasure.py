"""Erased data is gone from every text column of the PostgreSQL schema, not just hidden."""

import asyncpg
import pytest

from bot.memory import Store, open_store
from bot.models import PlayerSheet

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, human

pytestmark = pytest.mark.postgres

ARIA = ["AriaSaidThis-7f3a", "AriaDisplayName-7f3a", "AriaSheet-7f3a", "AriaPin-7f3a"]
BRAM = "BramKeepsThis-1c2d"
TABLE_TALK = "TableTalk-55e1"
ARIA_SUMMARY = "AriaSummarised-7f3a"
TABLE_SUMMARY = "TableSummary-55e1"


async def columns_holding(url: str, marker: str) -> list[str]:
    """Every `table.column` of text in the schema with a row containing `marker`."""
    conn = await asyncpg.connect(url)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'text'"
        )
        assert len(columns) > 20  # the check below looks everywhere
        return [
            f"{table}.{column}"
            for table, column in columns
            if await conn.fetchval(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE strpos({column}, $1) > 0)", marker
            )
        ]
    finally:
        await conn.close()


async def fill(store: Store) -> None:
    for n in range(20):
        await store.add_message(human(1000 + n, f"{ARIA[0]} #{n}", author_name=ARIA[1]))
        await store.add_message(human(2000 + n, f"{BRAM} #{n}", author_id=8, author_name="Bram"))
        await store.add_message(human(3000 + n, f"{TABLE_TALK} #{n}", channel_id=OTHER_CHANNEL))
    await store.save_sheet(PlayerSheet(7, "Aria", ARIA[2]), GUILD)
    await store.add_pin(CHANNEL, ARIA[3], 7)


async def test_forgotten_user_is_gone_from_every_column(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        await fill(store)
        assert await columns_holding(pg_url, ARIA[1]) == ["messages.author_name"]

        await store.forget_user(7)

        for marker in ARIA:
            assert await columns_holding(pg_url, marker) == []
        assert await columns_holding(pg_url, BRAM) == ["messages.text"]
        assert await store.count_messages(CHANNEL) == 20


async def test_summaries_built_from_a_forgotten_user_are_gone_from_every_column(
    pg_url: str,
) -> None:
    async with open_store(pg_url) as store:
        await fill(store)
        covered = (await store.messages_after(CHANNEL, None, limit=4))[-1].id  # the first lines
        await store.save_summary(CHANNEL, None, f"{ARIA_SUMMARY} v1", covered)
        await store.save_summary(CHANNEL, None, f"{ARIA_SUMMARY} v2", covered, author_id=99)
        await store.save_summary(CHANNEL, "vex", f"{ARIA_SUMMARY} as Vex saw it", covered)
        await store.save_summary(OTHER_CHANNEL, None, TABLE_SUMMARY, 1)
        assert await columns_holding(pg_url, ARIA_SUMMARY) == ["summaries.text"]

        counts = await store.forget_user(7)

        assert (counts["summaries"], counts["summary_channels"]) == (3, 1)
        assert await columns_holding(pg_url, ARIA_SUMMARY) == []
        assert await columns_holding(pg_url, TABLE_SUMMARY) == ["summaries.text"]
        assert await store.count_messages(CHANNEL) == 20


async def test_wiped_channel_is_gone_from_every_column(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        await fill(store)

        await store.wipe_channel(OTHER_CHANNEL)

        assert await columns_holding(pg_url, TABLE_TALK) == []
        assert await columns_holding(pg_url, BRAM) == ["messages.text"]
