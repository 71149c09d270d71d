"""The connection, lock and query helpers shared by the parts of the SQLite store."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, cast

import aiosqlite

from bot.memory.errors import (
    CorruptDatabaseError,
    DatabaseFileError,
    DatabaseUnavailableError,
)

Clock = Callable[[], float]
Params = Sequence[Any] | Mapping[str, Any]
Row = tuple[Any, ...]

_CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_UNAVAILABLE_CODES = {
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_AUTH,
}


def translate_error(exc: sqlite3.Error, path: str) -> DatabaseFileError:
    """The store error for an sqlite3 error, naming the database file."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _CORRUPT_CODES:
        return CorruptDatabaseError(
            path,
            f"the database is corrupt or not an SQLite file ({exc}). It was left untouched: "
            "restore it from a backup, or move it away to start with an empty memory.",
        )
    if primary in _UNAVAILABLE_CODES:
        return DatabaseUnavailableError(path, f"cannot use the database file ({exc})")
    return DatabaseFileError(path, f"database error: {exc}")


class Sql:
    """Runs statements on the shared connection, translating sqlite3 errors."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self._path = path

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a statement (including `RETURNING` rows)."""
        try:
            rows = await self._db.execute_fetchall(sql, params)
        except sqlite3.Error as exc:
            raise translate_error(exc, self._path) from exc
        return cast(list[Row], rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a statement, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement for its effect."""
        await self.fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement once per parameter row."""
        try:
            await self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise translate_error(exc, self._path) from exc


async def rollback(sql: Sql) -> None:
    """Roll back the open transaction, if one was ever started."""
    # Not guarded by `in_transaction`: a cancelled BEGIN may still be queued on the
    # connection's thread, and this ROLLBACK queues behind it. If none was active, SQLite
    # says so with an error, which is not news.
    with suppress(DatabaseFileError):
        await sql.execute("ROLLBACK")


class SqliteBase:
    """State shared by the store's parts: one connection, one lock, the clock.

    One asyncio lock serialises every method, so a transaction never interleaves with
    another coroutine's statements on the shared connection.
    """

    def __init__(self, db: aiosqlite.Connection, path: str, clock: Clock) -> None:
        self._db = db
        self._path = path
        self._clock = clock
        self._lock = asyncio.Lock()
        self._sql = Sql(db, path)

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[Sql]:
        """Exclusive use of the connection; each statement commits on its own."""
        async with self._lock:
            yield self._sql

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Sql]:
        """Exclusive use of the connection inside one write transaction."""
        async with self._lock:
            try:
                await self._sql.execute("BEGIN IMMEDIATE")
                yield self._sql
            except BaseException:
                await rollback(self._sql)
                raise
            await self._sql.execute("COMMIT")
