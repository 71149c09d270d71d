"""`inspect_database` tells a database's schema state and never creates or changes anything."""

import os
from pathlib import Path

import pytest

from bot.memory import CorruptDatabaseError, inspect_database, open_store
from bot.memory.migrate import load_migrations

from .v2_database import build_postgres, build_sqlite, dump_postgres

LATEST = len(load_migrations("sqlite"))


def files_under(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def entries(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


async def test_latest_versions_agree() -> None:
    assert len(load_migrations("postgres")) == LATEST


async def test_a_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    target = tmp_path / "data" / "memory.sqlite3"
    state = await inspect_database(target)
    assert (state.exists, state.version, state.latest) == (False, 0, LATEST)
    assert state.location == str(target)
    assert entries(tmp_path) == []


async def test_an_old_sqlite_file_is_read_without_a_change(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    build_sqlite(str(path))
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = files_under(tmp_path)
    assert list(before) == ["memory.sqlite3"]

    state = await inspect_database(str(path))

    assert (state.exists, state.version, state.latest, state.problems) == (True, 2, LATEST, ())
    assert files_under(tmp_path) == before


async def test_a_file_in_use_is_read_with_its_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path) as store:
        await store.set_state("k", "v")
        before = files_under(tmp_path)
        state = await inspect_database(path)
        assert (state.exists, state.version) == (True, LATEST)
        assert files_under(tmp_path).keys() == before.keys()
        assert await store.get_state("k") == "v"


async def test_a_corrupt_file_is_reported_untouched(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    before = files_under(tmp_path)
    with pytest.raises(CorruptDatabaseError, match=str(path)):
        await inspect_database(path)
    assert files_under(tmp_path) == before


@pytest.mark.postgres
async def test_postgres_schemas_are_only_read(pg_url: str) -> None:
    state = await inspect_database(pg_url)
    assert (state.exists, state.version, state.latest) == (False, 0, LATEST)
    assert "password" not in state.location

    await build_postgres(pg_url)
    before = await dump_postgres(pg_url)
    state = await inspect_database(pg_url)
    assert (state.exists, state.version) == (True, 2)
    assert await dump_postgres(pg_url) == before

    async with open_store(pg_url):
        pass
    state = await inspect_database(pg_url)
    assert (state.exists, state.version) == (True, LATEST)


@pytest.mark.postgres
async def test_an_empty_postgres_schema_stays_empty(pg_url: str) -> None:
    import asyncpg

    await inspect_database(pg_url)
    conn = await asyncpg.connect(pg_url)
    try:
        tables = await conn.fetchval(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    finally:
        await conn.close()
    assert tables == 0
