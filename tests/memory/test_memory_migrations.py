"""Schema migrations: numbered files, atomic steps, upgrades of older databases."""

import asyncio
import sqlite3
import sys
from pathlib import Path

import aiosqlite
import pytest

from bot.memory import ChannelConfig, MigrationError, UsageRecord, open_store
from bot.memory.migrate import Migration, load_migrations
from bot.memory.sqlite import migrate

from .helpers import CHANNEL, GUILD

ROOT = Path(__file__).resolve().parents[2]


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        return {row[0] for row in raw.execute("SELECT name FROM sqlite_schema WHERE type='table'")}


def wal_size(wal: Path) -> int:
    return wal.stat().st_size if wal.exists() else 0


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return raw.execute("PRAGMA user_version").fetchone()[0]


def test_shipped_migrations_are_numbered_from_one() -> None:
    migrations = load_migrations("sqlite")

    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].label == "0001_initial"
    assert all(m.sql.strip() for m in migrations)


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (["0001_a.sql", "0003_c.sql"], "without gaps"),
        (["0002_b.sql"], "without gaps"),
        (["0001_a.sql", "1_b.sql"], "NNNN_name.sql"),
        (["0001_a.sql", "0002_Bad-Name.sql"], "NNNN_name.sql"),
    ],
)
def test_badly_numbered_folders_are_refused(tmp_path: Path, files, problem) -> None:
    for name in files:
        (tmp_path / name).write_text("CREATE TABLE t (x INTEGER);")
    (tmp_path / "README.md").write_text("not a migration")

    with pytest.raises(ValueError, match=problem):
        load_migrations(directory=tmp_path)


async def test_failed_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    steps = [
        Migration(1, "first", "CREATE TABLE a (x INTEGER);"),
        Migration(2, "broken", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);"),
    ]
    async with aiosqlite.connect(path, isolation_level=None) as db:
        with pytest.raises(MigrationError) as caught:
            await migrate(db, steps, str(path))

    assert "0002_broken" in str(caught.value)
    assert str(path) in str(caught.value)
    assert user_version(path) == 1
    assert tables(path) == {"a"}


async def test_migration_breaking_foreign_keys_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    steps = [
        Migration(1, "parent", "CREATE TABLE p (id INTEGER PRIMARY KEY);"),
        Migration(
            2,
            "orphans",
            "CREATE TABLE c (p_id INTEGER REFERENCES p (id));\nINSERT INTO c VALUES (42);",
        ),
    ]
    async with aiosqlite.connect(path, isolation_level=None) as db:
        with pytest.raises(MigrationError, match="foreign keys"):
            await migrate(db, steps, str(path))

    assert user_version(path) == 1
    assert tables(path) == {"p"}


async def test_older_database_upgrades_on_open(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        assert await migrate(db, load_migrations("sqlite"), str(path), target=1) == 1
        await db.execute(
            "INSERT INTO channels (channel_id, guild_id, enabled, scene_name, updated_at) "
            "VALUES (?, ?, 1, 'Old scene', 1.0)",
            (CHANNEL, GUILD),
        )
        await db.execute(
            "INSERT INTO messages (channel_id, guild_id, discord_id, author_id, author_name, "
            "kind, text, created_at) VALUES (?, ?, 1001, 7, 'Aria', 'human', 'from v1', 2.0)",
            (CHANNEL, GUILD),
        )
    assert "usage_ledger" not in tables(path)

    async with open_store(path) as store:
        config = await store.get_channel(CHANNEL)
        assert config == ChannelConfig(
            CHANNEL, GUILD, enabled=True, scene_name="Old scene", updated_at=1.0
        )
        [message] = await store.window(CHANNEL, limit=10)
        assert (message.discord_id, message.text, message.created_at) == (1001, "from v1", 2.0)
        await store.record_usage(UsageRecord(GUILD, CHANNEL, 7, None, 10, 10, cost_usd=0.1))
        assert await store.spent_usd(GUILD, 0.0) == 0.1
        assert (await store.stats())["schema_version"] == len(load_migrations("sqlite"))


CHILD_MIGRATES_SLOWLY = """
import asyncio, sys
import aiosqlite
from bot.memory.migrate import Migration
from bot.memory.sqlite import migrate

HEAVY = '''
CREATE TABLE big (n INTEGER, pad TEXT);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000000)
INSERT INTO big SELECT n, hex(randomblob(100)) FROM c;
'''

async def main(path):
    steps = [Migration(1, "small", "CREATE TABLE small (x INTEGER);"), Migration(2, "heavy", HEAVY)]
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("PRAGMA journal_mode = WAL")
        await migrate(db, steps[:1], path)
        print("at version 1", flush=True)
        await migrate(db, steps, path)
        print("finished", flush=True)

asyncio.run(main(sys.argv[1]))
"""


async def test_migration_killed_midway_is_not_applied(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    wal = Path(f"{path}-wal")
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD_MIGRATES_SLOWLY, str(path),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), timeout=20)
        assert line == b"at version 1\n"

        async def heavy_step_is_writing() -> None:
            while wal_size(wal) < 2_000_000:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(heavy_step_is_writing(), timeout=20)
    finally:
        child.kill()
        await asyncio.wait_for(child.wait(), timeout=20)

    assert user_version(path) == 1
    assert tables(path) == {"small"}
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
