"""Opening (or only inspecting) the memory store named by the `database` setting."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

from bot.memory import sqlite
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
    """Around importing `bot.memory.postgres`: a missing asyncpg says how to install it."""
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

    async def __aexit__(self, *exc_info: object) -> None:
        if self._store is not None:
            await self._store.close()

    async def _open(self) -> Store:
        target = os.fspath(self._target)
        if not is_postgres_url(target):
            return Store(await sqlite.SqliteBackend.open(target), self._clock)
        with postgres_driver_required():
            from bot.memory.postgres import PostgresBackend

        return Store(await PostgresBackend.open(target), self._clock)


def open_store(target: str | os.PathLike[str], *, clock: Clock = time.time) -> OpeningStore:
    """Open the store at `target` (an SQLite file, created with its folder if need be, or a
    postgresql:// URL, see `bot.memory.postgres.target`) and bring its schema up to date.

    `store = await open_store(target)` (then `await store.close()`) or `async with`.

    Raises:
        UnsupportedDatabaseError: a PostgreSQL URL, but asyncpg is not installed.
        StoreError: the database cannot be opened (the message names the file, or the
            URL with its password redacted), is newer than this build, or failed to migrate.

    """
    return OpeningStore(target, clock)


async def inspect_database(target: str | os.PathLike[str]) -> DatabaseState:
    """Whether the database at `target` exists, and its schema version against this build's.
    Creates and changes nothing: SQLite is opened read-only, PostgreSQL only SELECTed from.

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
