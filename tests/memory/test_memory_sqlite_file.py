"""The SQLite file: WAL, busy timeout, unusable or corrupt files, schema version checks."""

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bot.memory import (
    CorruptDatabaseError,
    DatabaseUnavailableError,
    NewMessage,
    SchemaTooNewError,
    Store,
    open_store,
)

from .helpers import CHANNEL, GUILD, human


async def test_creates_folders_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "memory.sqlite3"

    async with open_store(path) as store:
        await store.add_message(human(1001))
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert raw.execute("PRAGMA user_version").fetchone()[0] >= 2


async def test_await_and_close_twice(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "memory.sqlite3")
    assert store.backend.name == "sqlite"
    async with store:
        await store.add_message(human(1001))
    await store.close()


async def test_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path) as store:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            asyncio.get_running_loop().call_later(0.2, other.execute, "COMMIT")
            started = time.perf_counter()
            stored = await asyncio.wait_for(store.add_message(human(1001)), timeout=5)
            waited = time.perf_counter() - started
        finally:
            other.close()
        assert stored.discord_id == 1001
        assert waited >= 0.15


async def test_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    garbage = b"these are not the bytes of an SQLite database\n" * 200
    path.write_bytes(garbage)

    with pytest.raises(CorruptDatabaseError) as caught:
        await open_store(path)

    assert str(path) in str(caught.value)
    assert "backup" in str(caught.value)
    assert path.read_bytes() == garbage


async def test_damaged_table_is_reported_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path) as store:
        for n in range(300):
            await store.add_message(human(1000 + n, "words " * 30))
    with sqlite3.connect(path) as raw:
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        [root] = raw.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'messages'"
        ).fetchone()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * 64)

    with pytest.raises(CorruptDatabaseError) as caught:
        async with open_store(path) as store:
            await store.window(CHANNEL, limit=10)

    assert str(path) in str(caught.value)


async def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailableError) as caught:
        await open_store(tmp_path)

    assert str(tmp_path) in str(caught.value)


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path):
        pass
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")

    with pytest.raises(SchemaTooNewError) as caught:
        await open_store(path)

    assert str(path) in str(caught.value)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 99


@pytest.mark.sqlite_only
async def test_stats_and_integrity(store: Store) -> None:
    await store.add_message(
        NewMessage(CHANNEL, GUILD, 1001, 7, "Aria", "hello"),
    )

    stats = await store.stats()

    assert stats["backend"] == "sqlite"
    assert stats["schema_version"] == stats["latest_schema_version"] >= 2
    assert stats["messages"] == 1
    assert stats["channels"] == 0
    assert stats["size_bytes"] > 0
    assert Path(stats["path"]).name == "ensemble.sqlite3"
    assert await store.integrity_check() == []
