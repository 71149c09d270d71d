"""PostgreSQL migrations: the SQLite schema's twin, atomic steps, one migrator at a time."""

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from bot.memory import (
    ChannelConfig,
    MigrationError,
    SchemaTooNewError,
    UsageRecord,
    open_store,
)
from bot.memory.migrate import Migration, load_migrations
from bot.memory.postgres.backend import migrate
from bot.memory.postgres.target import parse_target

from .helpers import CHANNEL, GUILD

pytestmark = pytest.mark.postgres

TIMEOUT = 20


async def tables_and_columns(url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
    finally:
        await conn.close()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


async def versions(url: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version, name FROM schema_version ORDER BY version")
    finally:
        await conn.close()
    return [tuple(row) for row in rows]


def test_postgres_migrations_mirror_the_sqlite_ones() -> None:
    postgres = load_migrations("postgres")
    sqlite = load_migrations("sqlite")

    assert [m.label for m in postgres] == [m.label for m in sqlite]
    assert all(m.sql.strip() for m in postgres)


async def test_same_tables_and_columns_as_sqlite(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path), open_store(pg_url):
        pass
    with sqlite3.connect(path) as raw:
        names = [
            row[0]
            for row in raw.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
            if not row[0].startswith(("sqlite_", "recall_index"))
        ]
        sqlite_tables = {
            name: [row[1] for row in raw.execute(f"PRAGMA table_info({name})")] for name in names
        }

    postgres_tables = await tables_and_columns(pg_url)

    assert postgres_tables.pop("schema_version") == ["version", "name", "applied_at"]
    # The recall index: SQLite keeps it in FTS5 tables, PostgreSQL in a column of each table.
    for table in ("messages", "summaries"):
        assert postgres_tables[table].pop() == "search"
    assert postgres_tables == sqlite_tables


async def test_each_migration_is_recorded_once(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        stats = await store.stats()
    async with open_store(pg_url):
        pass

    assert await versions(pg_url) == [(m.version, m.name) for m in load_migrations("postgres")]
    assert stats["backend"] == "postgresql"
    assert stats["schema_version"] == stats["latest_schema_version"] == 4
    assert stats["url"].startswith("postgresql://postgres@127.0.0.1")
    assert stats["size_bytes"] > 0
    assert stats["messages"] == 0


async def test_failed_migration_leaves_nothing_behind(pg_url: str) -> None:
    steps = [
        Migration(1, "first", "CREATE TABLE a (x INTEGER);"),
        Migration(2, "broken", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);"),
    ]
    target = parse_target(pg_url)
    conn = await asyncpg.connect(pg_url)
    try:
        with pytest.raises(MigrationError) as caught:
            await migrate(conn, steps, target)
    finally:
        await conn.close()

    assert "0002_broken" in str(caught.value)
    assert "search_path=test_" in str(caught.value)
    assert await versions(pg_url) == [(1, "first")]
    assert set(await tables_and_columns(pg_url)) == {"a", "schema_version"}


async def test_concurrent_migrators_apply_each_step_once(pg_url: str) -> None:
    # Not idempotent: a second application of either step would fail.
    steps = [
        Migration(1, "table", "CREATE TABLE counter (n INTEGER);"),
        Migration(2, "slow", "SELECT pg_sleep(0.2); INSERT INTO counter VALUES (1);"),
    ]
    target = parse_target(pg_url)
    connections = [await asyncpg.connect(pg_url) for _ in range(5)]
    try:
        reached = await asyncio.wait_for(
            asyncio.gather(*(migrate(conn, steps, target) for conn in connections)), TIMEOUT
        )
        counted = await connections[0].fetchval("SELECT COUNT(*) FROM counter")
    finally:
        for conn in connections:
            await conn.close()

    assert reached == [2] * 5
    assert counted == 1
    assert await versions(pg_url) == [(1, "table"), (2, "slow")]


async def test_processes_starting_together_share_one_schema(pg_url: str) -> None:
    stores = await asyncio.wait_for(
        asyncio.gather(*(open_store(pg_url) for _ in range(4))), TIMEOUT
    )
    try:
        await stores[0].save_channel(ChannelConfig(CHANNEL, GUILD, enabled=True))
        assert [c.channel_id for c in await stores[3].list_enabled_channels()] == [CHANNEL]
    finally:
        for store in stores:
            await store.close()
    assert len(await versions(pg_url)) == len(load_migrations("postgres"))


async def test_newer_schema_is_refused(pg_url: str) -> None:
    async with open_store(pg_url):
        pass
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("INSERT INTO schema_version (version, name) VALUES (99, 'future')")
    finally:
        await conn.close()

    with pytest.raises(SchemaTooNewError) as caught:
        await open_store(pg_url)

    assert "search_path=test_" in str(caught.value)
    assert (await versions(pg_url))[-1] == (99, "future")


async def test_older_schema_upgrades_on_open(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        assert await migrate(conn, load_migrations("postgres"), parse_target(pg_url), up_to=1) == 1
        await conn.execute(
            "INSERT INTO channels (channel_id, guild_id, enabled, scene_name, updated_at) "
            "VALUES ($1, $2, TRUE, 'Old scene', 1.0)",
            CHANNEL,
            GUILD,
        )
    finally:
        await conn.close()
    assert "usage_ledger" not in await tables_and_columns(pg_url)

    async with open_store(pg_url) as store:
        config = await store.get_channel(CHANNEL)
        assert config == ChannelConfig(
            CHANNEL, GUILD, enabled=True, scene_name="Old scene", updated_at=1.0
        )
        await store.record_usage(UsageRecord(GUILD, CHANNEL, 7, None, 10, 10, cost_usd=0.1))
        assert await store.spent_usd(GUILD, 0.0) == 0.1
        assert (await store.stats())["schema_version"] == 4
