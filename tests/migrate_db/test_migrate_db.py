"""`migrate-db`: an SQLite memory copied into PostgreSQL, whole, exact and verified."""

import asyncio
import sqlite3
import sys
import threading
from pathlib import Path

import asyncpg
import pytest

from bot.memory import open_store
from bot.memory.postgres.transfer import TABLES, compare, copy_sqlite_to_postgres
from bot.migrate_db import EXIT_FAILED, EXIT_OK, EXIT_USAGE, run_migration, sqlite_path

from .memory_dump import dump, populate, said

TIMEOUT = 30


class Clock:
    """One clock for both stores, so records written after the copy are comparable."""

    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def source(tmp_path: Path) -> Path:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path, clock=Clock()) as store:
        await populate(store)
    return path


async def sql(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("given", "path"),
    [
        ("sqlite:///data/ensemble.sqlite3", "data/ensemble.sqlite3"),
        ("sqlite:////srv/bot/memory.sqlite3", "/srv/bot/memory.sqlite3"),
        ("./data/ensemble.sqlite3", "./data/ensemble.sqlite3"),
    ],
)
def test_sqlite_sources(given: str, path: str) -> None:
    assert sqlite_path(given) == path


@pytest.mark.parametrize("given", ["postgresql://db/x", "sqlite:///", "mysql://db/x"])
def test_bad_sources_are_refused(given: str) -> None:
    with pytest.raises(ValueError):
        sqlite_path(given)


async def test_bad_arguments_exit_with_a_usage_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "memory.sqlite3"

    assert await run_migration("mysql://db/x", "postgresql://db/x") == EXIT_USAGE
    assert await run_migration(f"sqlite:///{path}", str(tmp_path / "other.sqlite3")) == EXIT_USAGE
    assert "--to must be a postgresql://" in capsys.readouterr().err


async def test_missing_source_file_is_an_error(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nothing.sqlite3"

    code = await run_migration(f"sqlite:///{missing}", "postgresql://127.0.0.1:1/x")

    assert code == EXIT_FAILED
    assert "no such SQLite file" in capsys.readouterr().err
    assert not missing.exists()


async def test_missing_driver_says_how_to_install_it(tmp_path: Path, monkeypatch, capsys) -> None:
    for name in list(sys.modules):
        if name == "asyncpg" or name.startswith(("asyncpg.", "bot.memory.postgres")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # what `import asyncpg` finds: nothing

    code = await run_migration(str(tmp_path / "memory.sqlite3"), "postgresql://db/x")

    assert code == EXIT_FAILED
    assert "pip install -e '.[postgres]'" in capsys.readouterr().err


def test_every_sqlite_table_and_column_is_copied(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    asyncio.run(_create(path))
    with sqlite3.connect(path) as raw:
        names = [
            row[0]
            for row in raw.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
            if not row[0].startswith(("sqlite_", "recall_index")) and row[0] != "leases"
        ]

    # The copy reads each table's columns from the schemas; a new table must be listed.
    # (PostgreSQL builds its own recall index from the rows copied.)
    assert sorted(TABLES) == sorted(names)


async def _create(path: Path) -> None:
    async with open_store(path):
        pass


@pytest.mark.postgres
async def test_copy_is_exact_through_the_store(source: Path, pg_url: str, capsys) -> None:
    code = await asyncio.wait_for(run_migration(f"sqlite:///{source}", pg_url), TIMEOUT)

    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    assert f"all {len(TABLES)} tables match" in out
    assert "messages" in out
    assert "MISMATCH" not in out
    clock = Clock()
    async with open_store(source, clock=clock) as lite, open_store(pg_url, clock=clock) as pg:
        before = await dump(lite)
        assert await dump(pg) == before
        assert len(before["history 602"]) == 31
        # Ids continue where SQLite's would, above the rewound and deleted ones too.
        rewound = (before["latest 602"] or 0) + 2
        new_ids = []
        for store in (lite, pg):
            added = await store.add_message(said(9001, "after the move", channel=601))
            pin = await store.add_pin(601, "new pin", None)
            summary = await store.save_summary(602, None, "new", added.id)
            new_ids.append((added.id, pin, summary.id))
        assert new_ids[0] == new_ids[1] == (rewound + 1, 4, 5)
        assert await dump(pg) == await dump(lite)
        # Leases belong to running processes: not copied.
        assert await pg.try_acquire_lease("channel:600", "new-process", 30) is True
        assert await lite.try_acquire_lease("channel:600", "new-process", 30) is False


@pytest.mark.postgres
async def test_filled_target_is_refused_unless_replaced(source: Path, pg_url: str, capsys) -> None:
    assert await run_migration(f"sqlite:///{source}", pg_url) == EXIT_OK
    async with open_store(pg_url) as pg:
        await pg.add_message(said(9001, "written in PostgreSQL since"))
    capsys.readouterr()

    assert await run_migration(f"sqlite:///{source}", pg_url) == EXIT_FAILED
    complaint = capsys.readouterr().err
    assert "already holds memory" in complaint
    assert "--replace" in complaint
    async with open_store(pg_url) as pg:
        assert await pg.get_by_discord_id(9001) is not None

    assert await run_migration(f"sqlite:///{source}", pg_url, replace=True) == EXIT_OK
    async with open_store(pg_url) as pg:
        assert await pg.get_by_discord_id(9001) is None
    assert all(check.matches for check in await compare(source, pg_url))


@pytest.mark.postgres
async def test_verification_catches_any_difference(source: Path, pg_url: str) -> None:
    report = await copy_sqlite_to_postgres(source, pg_url)
    assert report.ok

    await sql(pg_url, "UPDATE messages SET text = 'tampered' WHERE discord_id = 1001")
    await sql(pg_url, "UPDATE channels SET enabled = FALSE WHERE channel_id = 602")
    await sql(pg_url, "DELETE FROM pins WHERE channel_id = 602")

    checks = {check.table: check for check in await compare(source, pg_url)}
    assert {name for name, check in checks.items() if not check.matches} == {
        "messages",
        "channels",
        "pins",
    }
    assert checks["messages"].source_rows == checks["messages"].target_rows
    assert checks["pins"].target_rows == checks["pins"].source_rows - 1


@pytest.mark.postgres
async def test_a_source_still_being_written_fails_the_verification(
    source: Path, pg_url: str, capsys
) -> None:
    stop = threading.Event()

    def bot_still_running() -> int:
        written = 0
        with sqlite3.connect(source, timeout=10, isolation_level=None) as raw:
            while not stop.is_set():
                written += 1
                raw.execute(
                    "INSERT INTO usage_ledger (guild_id, prompt_tokens, completion_tokens, "
                    "cost_usd, created_at) VALUES (500, 1, 1, 0.0, 0.0)"
                )
                stop.wait(0.001)
        return written

    writer = asyncio.create_task(asyncio.to_thread(bot_still_running))
    try:
        code = await asyncio.wait_for(run_migration(f"sqlite:///{source}", pg_url), TIMEOUT)
    finally:
        stop.set()
        written = await asyncio.wait_for(writer, TIMEOUT)

    captured = capsys.readouterr()
    assert written > 0
    assert code == EXIT_FAILED
    assert "usage_ledger" in captured.err
    assert "MISMATCH" in captured.out
