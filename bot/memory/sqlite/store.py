"""The SQLite memory store: one database file in WAL mode behind one connection."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite

from bot.memory.derived import DerivedStore
from bot.memory.errors import DatabaseUnavailableError, StoreError
from bot.memory.migrate import load_migrations
from bot.memory.rows import COUNTED_TABLES
from bot.memory.sqlite.base import Clock, Sql, translate_error
from bot.memory.sqlite.channels import ChannelsMixin
from bot.memory.sqlite.history import HistoryMixin
from bot.memory.sqlite.leases import LeasesMixin
from bot.memory.sqlite.messages import MessagesMixin
from bot.memory.sqlite.personas import PersonasMixin
from bot.memory.sqlite.privacy import PrivacyMixin
from bot.memory.sqlite.schema import migrate, schema_version
from bot.memory.sqlite.summaries import SummariesMixin
from bot.memory.sqlite.usage import UsageMixin

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
"""How long a statement waits for another process's write lock before failing."""

_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    # WAL + NORMAL: a commit survives the process dying at any moment; only an OS crash or
    # power cut can drop the newest commits, and the file stays consistent either way.
    "PRAGMA synchronous = NORMAL",
    "PRAGMA secure_delete = ON",
    "PRAGMA journal_size_limit = 67108864",
)


class SqliteStore(
    ChannelsMixin,
    PersonasMixin,
    MessagesMixin,
    HistoryMixin,
    SummariesMixin,
    UsageMixin,
    PrivacyMixin,
    LeasesMixin,
    DerivedStore,
):
    """The memory store on an SQLite file; open it with `SqliteStore.open` or `open_store`."""

    def __init__(self, db: aiosqlite.Connection, path: str, clock: Clock) -> None:
        super().__init__(db, path, clock)
        self._closed = False

    @classmethod
    async def open(cls, path: str | os.PathLike[str], *, clock: Clock = time.time) -> SqliteStore:
        """Open (or create) the database file and upgrade its schema.

        Replies a crash left streaming stay so: the runtime settles them in Discord and memory
        together (`unfinished_replies`).

        Raises:
            DatabaseUnavailableError: the file or its directory cannot be used.
            CorruptDatabaseError: the file is not an SQLite database or is damaged.
            SchemaTooNewError: a newer version of the bot wrote the file.
            MigrationError: upgrading the schema failed (the file keeps its old version).

        """
        name = _prepare_file(path)
        try:
            db = await aiosqlite.connect(name, isolation_level=None, cached_statements=256)
        except sqlite3.Error as exc:
            raise translate_error(exc, name) from exc
        try:
            await _configure(db, name)
            await migrate(db, load_migrations("sqlite"), name)
            await Sql(db, name).execute("PRAGMA foreign_keys = ON")
            store = cls(db, name, clock)
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        """Flush and close; calling it twice is harmless."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            try:
                await self._sql.execute("PRAGMA optimize")
            except StoreError as exc:
                # Closing must not hide the error that is usually the reason for closing.
                log.debug("%s: PRAGMA optimize failed on close: %s", self._path, exc)
            finally:
                await self._db.close()

    async def stats(self) -> dict[str, Any]:
        """Backend, file, schema version, size and row counts."""
        async with self._locked() as sql:
            counts = {
                table: await sql.scalar(f"SELECT COUNT(*) FROM {table}") for table in COUNTED_TABLES
            }
            enabled = await sql.scalar("SELECT COUNT(*) FROM channels WHERE enabled = 1")
            version = await schema_version(self._db, self._path)
        return {
            "backend": "sqlite",
            "path": self._path,
            "schema_version": version,
            "latest_schema_version": len(load_migrations("sqlite")),
            "size_bytes": _size_on_disk(self._path),
            "enabled_channels": enabled,
            **counts,
        }

    async def integrity_check(self) -> list[str]:
        """Problems `PRAGMA integrity_check` finds; empty when the file is healthy."""
        async with self._locked() as sql:
            rows = await sql.fetchall("PRAGMA integrity_check")
            broken_keys = await sql.fetchall("PRAGMA foreign_key_check")
        problems = [str(row[0]) for row in rows if row[0] != "ok"]
        problems += [f"broken foreign key: {tuple(row)}" for row in broken_keys]
        return problems


async def _configure(db: aiosqlite.Connection, path: str) -> None:
    sql = Sql(db, path)
    for pragma in _PRAGMAS:
        await sql.execute(pragma)
    # The first statement that reads the file: a damaged or foreign file fails here.
    mode = await sql.scalar("PRAGMA journal_mode = WAL")
    if mode != "wal":
        log.warning("%s: could not switch to WAL (journal mode is %s)", path, mode)
    await sql.scalar("SELECT COUNT(*) FROM sqlite_schema")


def _prepare_file(path: str | os.PathLike[str]) -> str:
    file = Path(path).expanduser()
    name = str(file)
    if file.is_dir():
        raise DatabaseUnavailableError(name, "is a directory, not a database file")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailableError(name, f"cannot create its folder: {exc}") from exc
    return name


def _size_on_disk(path: str) -> int:
    parts = (Path(path), Path(f"{path}-wal"))
    return sum(part.stat().st_size for part in parts if part.exists())
