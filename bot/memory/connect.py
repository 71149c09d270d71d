"""Opening (or only inspecting) the memory store named by the `database` setting."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from bot.memory import sqlite
from bot.memory.backend import Backend
from bot.memory.errors import UnsupportedDatabaseError
from bot.memory.migrate import DatabaseState
from bot.memory.store import Store

Clock = Callable[[], float]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")

INSTALL_POSTGRES_HINT = "PostgreSQL needs the asyncpg driver: pip install -e '.[postgres]'"


def is_postgres_url(target: str | os.PathLike[str]) -> bool:
    """Whether `target` names a PostgreSQL server rather than an SQLite file."""
    return os.fspath(target).startswith(POSTGRES_SCHEMES)


@contextmanager
def postgres_driver_required() -> Iterator[None]:
    """Turn a missing asyncpg into `UnsupportedDatabaseError` saying how to install it.

    Wrap the import of `bot.memory.postgres` in it; SQLite-only installs never import it.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        if exc.name != "asyncpg":
            raise
        raise UnsupportedDatabaseError(INSTALL_POSTGRES_HINT) from None


class OpeningStore:
    """`open_store`'s result: await it for the store, or use it in `async with`."""

    def __init__(self, target: str | os.PathLike[str], clock: Clock) -> None:
        self._target = target
        self._clock = clock
        self._store: Store | None = None

    def __await__(self) -> Generator[Any, None, Store]:
        return self._open().__await__()

    async def __aenter__(self) -> Store:
        self._store = await self._open()
        return self._store

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._store is not None:
            await self._store.close()

    async def _open(self) -> Store:
        target = os.fspath(self._target)
        backend: Backend
        if is_postgres_url(target):
            with postgres_driver_required():
                from bot.memory.postgres import PostgresBackend

            backend = await PostgresBackend.open(target)
        else:
            backend = await sqlite.SqliteBackend.open(target)
        return Store(backend, self._clock)


def open_store(target: str | os.PathLike[str], *, clock: Clock = time.time) -> OpeningStore:
    """Open the store at `target`: an SQLite file path, or a postgresql:// URL.

    The schema is brought up to date first (numbered migrations, each atomic). An SQLite
    file and its folder are created. A postgresql:// (or postgres://) URL's query may carry
    pool and timeout options (see `bot.memory.postgres.target`). Replies a crash left
    streaming stay so: see `Store.unfinished_replies`.

    Use `store = await open_store(target)` (then `await store.close()`), or
    `async with open_store(target) as store:`.

    Raises:
        UnsupportedDatabaseError: a PostgreSQL URL, but asyncpg is not installed.
        StoreError: the database cannot be opened; the message names the file, or the URL
            with its password redacted. `SchemaTooNewError`: a newer version of the bot
            wrote it; `MigrationError`: upgrading failed and nothing of it was applied.

    """
    return OpeningStore(target, clock)


async def inspect_database(target: str | os.PathLike[str]) -> DatabaseState:
    """Whether the database at `target` exists, and its schema version against this build's.

    Never creates or changes anything: an SQLite file is opened read-only (and no file or
    folder is made), a PostgreSQL schema is only read with SELECTs.

    Raises:
        UnsupportedDatabaseError: a PostgreSQL URL, but asyncpg is not installed.
        StoreError: the database exists but cannot be read (or the server reached).

    """
    name = os.fspath(target)
    if is_postgres_url(name):
        with postgres_driver_required():
            from bot.memory.postgres.backend import inspect

        return await inspect(name)
    return await sqlite.inspect(name)
