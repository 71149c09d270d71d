"""The dialect layer: what differs between SQLite and PostgreSQL, behind one small interface.

The store's SQL is written once, with `$1, $2...` placeholders (SQLite runs them as `?1...`)
and syntax both share (`ON CONFLICT`, `RETURNING`, `CAST`, `TRUE`). A backend answers what
really differs: id lists, row and erase locks, notices to other processes, cleaning up
after an erase. Backend-specific SQL beyond a fragment (the full-text search of recall)
goes here too, as a method each backend implements.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from bot.memory.errors import DatabaseFileError

Row = Sequence[Any]
"""A database row as either driver returns it: indexable and unpackable like a tuple."""

UserCallback = Callable[[int | None], None]
"""Told the id of a user another process changed, or None if any user may have been."""

FORGOTTEN = "forgotten"
"""The kind of notice `forget_user` sends: the user's data was erased."""
SHEET = "sheet"
"""The kind of notice `save_sheet` and `clear_sheet` send: the player's sheet changed."""


class ConflictError(DatabaseFileError):
    """A unique key was already taken (another process wrote the same row first)."""


@dataclass(frozen=True, slots=True)
class Search:
    """One recall query as a backend runs it: plain words, each searched as a phrase."""

    words: tuple[str, ...]
    matches: tuple[int, ...]
    """How many indexed lines each word matches, all channels together."""
    channel_id: int
    after_id: int
    """Messages with ids strictly between `after_id` and `before_id`..."""
    before_id: int
    """...and summary versions covering only messages before `before_id`."""
    summary_key: str
    include_ooc: bool
    limit: int


class Connection(ABC):
    """One database session as the store sees it: run SQL written with `$n` placeholders."""

    @abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Every row of a statement (including `RETURNING` rows)."""

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        """The first row of a statement, or None."""
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    async def execute(self, sql: str, *args: Any) -> None:
        """Run one statement for its effect."""
        await self.fetch(sql, *args)

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""

    @abstractmethod
    async def count(self, sql: str, *args: Any) -> int:
        """Run an INSERT, UPDATE or DELETE (without RETURNING); how many rows it changed."""


class Backend(ABC):
    """One open database: sessions, transactions, and the dialect's differences."""

    name: str
    """`sqlite` or `postgresql`, as `stats` reports it."""
    migrations: str
    """The folder of its numbered migrations under `bot/memory/migrations`."""
    location: str
    """The file path, or the URL with any password redacted (for messages)."""
    for_update = ""
    """Appended to a SELECT of one row to lock it until the transaction ends."""

    @abstractmethod
    def connection(self) -> AbstractAsyncContextManager[Connection]:
        """A session in autocommit: each statement commits on its own."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A session inside one write transaction, rolled back if the block fails."""

    @abstractmethod
    def any_of(self, column: str, placeholder: str, ids: Iterable[int]) -> tuple[str, Any]:
        """A predicate (`column` is one of `ids`) and the value to bind to `placeholder`."""

    async def lock_erasures(self, conn: Connection, *, shared: bool = False) -> None:
        """Taken first by a transaction that erases messages or summaries, and `shared` by
        one that must not interleave with an erase (saving a fold); held until it ends.
        """
        del conn, shared

    async def notify(self, conn: Connection, kind: str, user_id: int) -> None:
        """Tell the other processes, on commit, that a user's data of `kind` changed."""
        del conn, kind, user_id

    async def subscribe(self, callback: UserCallback, kind: str) -> None:
        """Call `callback` when another process sends a notice of `kind`."""
        del callback, kind

    async def after_erase(self) -> None:
        """Leave no copy of erased rows where the backend can reach it."""
        return

    async def message_added(self) -> None:  # noqa: B027 (most backends need not know)
        """Told after a message is stored, outside any session (SQLite indexes new lines in
        batches).
        """

    async def refresh_search(self, before_id: int | None = None) -> None:  # noqa: B027
        """Bring the full-text index up to date with every stored line below `before_id`
        (None: every line), outside any session. Most backends index as they store.
        """

    @abstractmethod
    async def count_matches(self, conn: Connection, words: Sequence[str], cap: int) -> list[int]:
        """How many indexed lines (messages and summaries) each word matches, up to `cap`."""

    @abstractmethod
    async def search(self, conn: Connection, search: Search) -> list[Row]:
        """The best `search.limit` messages and the best superseded summary version, as rows
        `(kind, id, author_name, text, created_at, score)`, higher scores better.
        """

    @abstractmethod
    async def describe(self, conn: Connection) -> dict[str, Any]:
        """Where it is, its size, and `schema_version`: the newest migration applied."""

    async def problems(self, conn: Connection) -> list[str]:
        """What the backend's own consistency check finds (PostgreSQL enforces keys and
        checks itself, and reports damaged pages when they are read).
        """
        del conn
        return []

    @abstractmethod
    async def close(self) -> None:
        """Close every connection; calling it twice is harmless."""


class StoreBase:
    """What every part of the store shares: the open backend and the clock."""

    def __init__(self, backend: Backend, clock: Callable[[], float]) -> None:
        self._db = backend
        self._clock = clock

    @property
    def backend(self) -> Backend:
        """The database this store runs on."""
        return self._db

    # One statement in autocommit, for the many methods that need no more.

    async def _rows(self, sql: str, *args: Any) -> list[Row]:
        async with self._db.connection() as conn:
            return await conn.fetch(sql, *args)

    async def _row(self, sql: str, *args: Any) -> Row | None:
        async with self._db.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _value(self, sql: str, *args: Any) -> Any:
        async with self._db.connection() as conn:
            return await conn.fetchval(sql, *args)

    async def _count(self, sql: str, *args: Any) -> int:
        async with self._db.connection() as conn:
            return await conn.count(sql, *args)


def upsert(table: str, columns: str, key: str) -> str:
    """An INSERT of `columns` (named with spaces between, bound as $1, $2...) that replaces
    the other columns of the row already stored under the same `key` columns.
    """
    names, keys = columns.split(), key.split()
    marks = ", ".join(f"${number}" for number in range(1, len(names) + 1))
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in keys)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )
