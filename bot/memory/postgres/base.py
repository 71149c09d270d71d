"""The pool, transactions and error translation shared by the parts of the PostgreSQL store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.memory.errors import CorruptDatabaseError, DatabaseFileError, DatabaseUnavailableError
from bot.memory.postgres.target import PostgresTarget

Clock = Callable[[], float]
Connection = Any
"""An `asyncpg.Connection` (asyncpg ships no type hints)."""
Record = Any
"""An `asyncpg.Record`: indexable and unpackable like a tuple."""

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)
"""What asyncpg raises when a statement or a connection fails."""

_ERASE_LOCK_KEY = "hashtextextended('ensemble.erase:' || COALESCE(current_schema(), ''), 0)"
LOCK_FOR_ERASE = f"SELECT pg_advisory_xact_lock({_ERASE_LOCK_KEY})"
"""Taken first by a transaction that erases messages or summaries (forget, wipe, rewind)."""
LOCK_AGAINST_ERASE = f"SELECT pg_advisory_xact_lock_shared({_ERASE_LOCK_KEY})"
"""Taken by a transaction that must not interleave with an erase (saving a folded summary):
whichever commits second sees the other's rows."""

_CORRUPT_STATES = {"XX001", "XX002"}
_UNSTORABLE_TEXT_STATES = {"22021", "22P05"}
_UNAVAILABLE_STATES = {"25006", "25P03", "42501"}
# Connection, authentication, unknown database, out of resources, operator intervention
# (which includes statement timeouts and server shutdowns).
_UNAVAILABLE_CLASSES = {"08", "28", "3D", "53", "57"}


def translate_error(exc: BaseException, target: PostgresTarget) -> DatabaseFileError:
    """The store error for a driver error, naming the database by its redacted URL."""
    detail = target.scrub(str(exc)) or ("timed out" if isinstance(exc, TimeoutError) else "")
    detail = detail or type(exc).__name__
    state = getattr(exc, "sqlstate", None)
    if not isinstance(state, str):
        return DatabaseUnavailableError(target.display, f"cannot reach the database ({detail})")
    if state in _UNSTORABLE_TEXT_STATES:
        return DatabaseFileError(
            target.display, f"text PostgreSQL cannot store, such as NUL (U+0000): {detail}"
        )
    if state in _CORRUPT_STATES:
        return CorruptDatabaseError(
            target.display,
            f"the server reports damaged data ({detail}); restore the database from a backup",
        )
    if state in _UNAVAILABLE_STATES or state[:2] in _UNAVAILABLE_CLASSES:
        return DatabaseUnavailableError(target.display, f"cannot use the database ({detail})")
    return DatabaseFileError(target.display, f"database error: {detail}")


class PostgresBase:
    """State shared by the store's parts: the connection pool, the target, the clock.

    Every method borrows a pooled connection for its statements, so calls from many
    coroutines run in parallel; a method writing several rows does so in one transaction.
    """

    def __init__(self, pool: Any, target: PostgresTarget, clock: Clock) -> None:
        self._pool = pool
        self._target = target
        self._clock = clock
        self._sender = uuid.uuid4().hex
        """This store's name on the notifications it sends, so it can skip its own."""

    @property
    def url(self) -> str:
        """The database URL with any password redacted."""
        return self._target.display

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit: each statement commits on its own."""
        options = self._target.options
        try:
            conn = await self._pool.acquire(timeout=options.connect_timeout)
        except TimeoutError as exc:
            raise DatabaseUnavailableError(
                self._target.display,
                f"no connection within {options.connect_timeout:g} s: the server is slow to "
                f"answer, or all {options.max_size} pooled connections stayed busy",
            ) from exc
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, self._target) from exc
        try:
            yield conn
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, self._target) from exc
        finally:
            await self._pool.release(conn)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, rolled back if the block fails."""
        async with self._connection() as conn, conn.transaction():
            yield conn
