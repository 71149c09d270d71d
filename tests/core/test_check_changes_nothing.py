"""`python -m bot check` reads the database without creating or changing anything."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bot.memory import open_store
from tests.memory.v2_database import build_sqlite

ROOT = Path(__file__).resolve().parents[2]


def check(folder: Path, database: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "LLM_"))}
    env.update(
        DISCORD_TOKEN="x.y.z",
        LLM_API_KEY="sk-1234567",
        PERSONAS_DIR=str(ROOT / "personas"),
        DATABASE=str(database),
        PYTHONPATH=str(ROOT),
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_check_on_a_fresh_folder_leaves_it_empty(tmp_path: Path) -> None:
    database = tmp_path / "data" / "ensemble.sqlite3"
    result = check(tmp_path, database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"database: would create {database} (schema v4)" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_check_reports_a_pending_migration_without_applying_it(tmp_path: Path) -> None:
    database = tmp_path / "ensemble.sqlite3"
    build_sqlite(str(database))
    os.utime(database, ns=(1_000_000_000, 1_000_000_000))
    before = snapshot(tmp_path)

    result = check(tmp_path, database)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"database: {database}: needs migration 2 → 4" in result.stdout
    assert snapshot(tmp_path) == before


def test_check_says_an_upgraded_database_is_up_to_date(tmp_path: Path) -> None:
    database = tmp_path / "ensemble.sqlite3"
    build_sqlite(str(database))
    asyncio.run(upgrade(database))
    before = snapshot(tmp_path)

    result = check(tmp_path, database)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"database: {database}: schema v4, up to date" in result.stdout
    assert snapshot(tmp_path) == before


async def upgrade(database: Path) -> None:
    async with open_store(database):
        pass
