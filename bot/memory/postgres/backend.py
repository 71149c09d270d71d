"""The PostgreSQL dialect: one schema shared by any number of processes, over a pool."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.memory.backend import Backend, Connection, Row, Search, UserCallback
from bot.memory.errors import DatabaseUnavailableError, MigrationError
from bot.memory.migrate import (
    DatabaseState,
    Migration,
    latest_version,
    load_migrations,
    refuse_newer,
)
from bot.memory.postgres.events import MemoryListener, notify_sql
from bot.memory.postgres.target import (
    DRIVER_ERRORS,
    PoolOptions,
    PostgresTarget,
    parse_target,
    translate_error,
)

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 10.0
"""How long `close` waits for borrowed connections before cutting them."""

_ERASE_LOCK_KEY = "hashtextextended('ensemble.erase:' || COALESCE(current_schema(), ''), 0)"
LOCK_FOR_ERASE = f"SELECT pg_advisory_xact_lock({_ERASE_LOCK_KEY})"
"""Taken first by a transaction that erases messages or summaries (forget, wipe, rewind)."""
LOCK_AGAINST_ERASE = f"SELECT pg_advisory_xact_lock_shared({_ERASE_LOCK_KEY})"
"""Taken by a transaction that must not interleave with an erase (saving a folded summary):
whichever commits second sees the other's rows."""

_MIGRATE_LOCK = (
    "SELECT pg_advisory_xact_lock("
    "hashtextextended('ensemble.migrate:' || COALESCE(current_schema(), ''), 0))"
)

# Empty phrases (punctuation only) match nothing and are not looked up.
_COUNT_MATCHES = """
SELECT CASE WHEN numnode(q) = 0 THEN 0 ELSE
    (SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE search @@ q LIMIT $2) AS m)
    + (SELECT COUNT(*) FROM (SELECT 1 FROM summaries WHERE search @@ q LIMIT $2) AS s) END
FROM unnest($1::TEXT[]) WITH ORDINALITY AS w (word, n), recall_phrase(w.word) AS q
ORDER BY w.n
"""

# Each word's ts_rank_cd (normalised by the line's length), weighted by how rare the word
# is. `+ 0` keeps the planner off the channel and id indexes: the GIN index must lead.
_SEARCH = """
WITH terms AS MATERIALIZED (
    SELECT recall_phrase(word) AS q, weight
    FROM unnest($1::TEXT[], $2::FLOAT8[]) AS t (word, weight)
), wanted AS MATERIALIZED (
    SELECT string_agg(format('(%s)', q), ' | ')::tsquery AS q FROM terms
)
(SELECT 'message', m.id, m.author_name, m.text, m.created_at,
        (SELECT SUM(t.weight * ts_rank_cd(m.search, t.q, 1)) FROM terms AS t) AS score
 FROM messages AS m
 WHERE m.search @@ (SELECT q FROM wanted) AND m.channel_id + 0 = $3
     AND m.id + 0 > $4 AND m.id + 0 < $5 AND ($6 OR NOT m.ooc)
 ORDER BY score DESC, m.id DESC LIMIT $7)
UNION ALL
(SELECT 'summary', s.id, NULL, s.text, s.created_at,
        (SELECT SUM(t.weight * ts_rank_cd(s.search, t.q, 1)) FROM terms AS t) AS score
 FROM summaries AS s
 WHERE s.search @@ (SELECT q FROM wanted) AND s.channel_id = $3 AND s.persona_id = $8
     AND s.covers_until < $5 AND s.version < (SELECT MAX(version) FROM summaries
                                              WHERE channel_id = $3 AND persona_id = $8)
 ORDER BY score DESC, s.id DESC LIMIT 1)
"""

_CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
_SCHEMA_VERSION = "SELECT COALESCE(MAX(version), 0) FROM schema_version"


class PostgresConnection(Connection):
    """A pooled asyncpg connection (asyncpg speaks `$n` placeholders natively)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Every row of a statement (including `RETURNING` rows)."""
        rows: list[Row] = await self._conn.fetch(sql, *args)
        return rows

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        await self._conn.executemany(sql, rows)

    async def count(self, sql: str, *args: Any) -> int:
        """Run a write; how many rows it changed."""
        counted: int = await self._conn.fetchval(
            f"WITH changed AS ({sql} RETURNING 1) SELECT COUNT(*) FROM changed", *args
        )
        return counted


class PostgresBackend(Backend):
    """A pool: every method borrows a connection, so calls from many coroutines run in
    parallel; a method writing several rows does so in one transaction.
    """

    name = "postgresql"
    migrations = "postgres"
    for_update = " FOR UPDATE"

    def __init__(self, pool: Any, target: PostgresTarget) -> None:
        self._pool = pool
        self._target = target
        self._closed = False
        self.location = target.display
        self.sender = uuid.uuid4().hex
        """This store's name on the notifications it sends, so it can skip its own."""
        self.listener = MemoryListener(target, self.sender)
        """The connection listening for other processes' notices (opened on demand)."""

    @classmethod
    async def open(cls, url: str, options: PoolOptions | None = None) -> PostgresBackend:
        """Connect a pool to `url` and bring the schema up to date."""
        target = parse_target(url, options)
        try:
            pool = await asyncpg.create_pool(
                target.dsn,
                min_size=target.options.min_size,
                max_size=target.options.max_size,
                timeout=target.options.connect_timeout,
                statement_cache_size=target.options.statement_cache_size,
                server_settings=target.options.server_settings(),
            )
        except DRIVER_ERRORS as exc:
            raise translate_error(exc, target) from exc
        backend = cls(pool, target)
        try:
            async with backend._borrowed() as conn:
                await migrate(conn, load_migrations("postgres"), target)
        except BaseException:
            pool.terminate()
            raise
        return backend

    @asynccontextmanager
    async def _borrowed(self) -> AsyncIterator[Any]:
        options = self._target.options
        try:
            conn = await self._pool.acquire(timeout=options.connect_timeout)
        except TimeoutError as exc:
            raise DatabaseUnavailableError(
                self.location,
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
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit: each statement commits on its own."""
        async with self._borrowed() as conn:
            yield PostgresConnection(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, rolled back if the block fails."""
        async with self._borrowed() as conn, conn.transaction():
            yield PostgresConnection(conn)

    def any_of(self, column: str, placeholder: str, ids: Iterable[int]) -> tuple[str, Any]:
        """`column` is in a BIGINT array of the ids."""
        return f"{column} = ANY({placeholder}::BIGINT[])", list(ids)

    async def lock_erasures(self, conn: Connection, *, shared: bool = False) -> None:
        """An advisory lock: exclusive for erases, shared among folds. Whichever of a fold
        and an erase commits second sees the other's rows (each statement reads afresh).
        """
        await conn.execute(LOCK_AGAINST_ERASE if shared else LOCK_FOR_ERASE)

    async def notify(self, conn: Connection, kind: str, user_id: int) -> None:
        """A notification delivered to the other processes when (and if) this commits."""
        await conn.execute(notify_sql(kind), user_id, self.sender)

    async def subscribe(self, callback: UserCallback, kind: str) -> None:
        """Report the other processes' notices of `kind` (see `bot.memory.postgres.events`)."""
        await self.listener.subscribe(callback, kind)

    async def count_matches(self, conn: Connection, words: Sequence[str], cap: int) -> list[int]:
        """A capped count per word, in one round trip."""
        return [row[0] for row in await conn.fetch(_COUNT_MATCHES, list(words), cap)]

    async def search(self, conn: Connection, search: Search) -> list[Row]:
        """ts_rank_cd has no notion of rarity: each word's rank is weighted by
        ln(1 + cap / matches), so rarer words count more, as with SQLite's bm25.
        """
        cap = max(search.matches)
        weights = [math.log1p(cap / matches) for matches in search.matches]
        return await conn.fetch(
            _SEARCH,
            list(search.words), weights, search.channel_id, search.after_id, search.before_id,
            search.include_ooc, search.limit, search.summary_key,
        )  # fmt: skip

    async def describe(self, conn: Connection) -> dict[str, Any]:
        """The URL, the server's version, the tables' size and the schema's version."""
        row = await conn.fetchrow(
            f"SELECT current_setting('server_version'), ({_SCHEMA_VERSION}), "
            "(SELECT SUM(pg_total_relation_size(c.oid))::BIGINT "
            "FROM pg_class AS c WHERE c.relnamespace = current_schema()::regnamespace "
            "AND c.relkind = 'r')"
        )
        keys = ("server_version", "schema_version", "size_bytes")
        return {"url": self.location, **dict(zip(keys, row or (), strict=True))}

    async def close(self) -> None:
        """Stop listening and close the pool's connections."""
        if self._closed:
            return
        self._closed = True
        await self.listener.close()
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            log.warning("%s: connections still busy after %ss; cut", self.location, CLOSE_TIMEOUT_S)
            self._pool.terminate()


async def inspect(url: str) -> DatabaseState:
    """The schema's version, read with SELECTs only (nothing is created)."""
    target = parse_target(url)
    latest = latest_version("postgres")
    try:
        conn = await asyncpg.connect(
            target.dsn, timeout=target.options.connect_timeout, statement_cache_size=0
        )
    except DRIVER_ERRORS as exc:
        raise translate_error(exc, target) from exc
    try:
        if not await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
            return DatabaseState(target.display, False, 0, latest)
        version = await conn.fetchval(_SCHEMA_VERSION)
    except DRIVER_ERRORS as exc:
        raise translate_error(exc, target) from exc
    finally:
        await conn.close()
    return DatabaseState(target.display, True, version, latest)


async def migrate(
    conn: Any,
    migrations: Sequence[Migration],
    target: PostgresTarget,
    *,
    up_to: int | None = None,
) -> int:
    """Apply the migrations above the schema's version (up to `up_to`); returns the version.

    The `schema_version` table keeps a row per migration applied. Each migration, its row
    and the version check before it share one transaction that first takes an advisory lock
    keyed on the schema, so processes starting together apply each exactly once.

    Raises:
        SchemaTooNewError: the schema is newer than every migration known here.
        MigrationError: a migration failed; it was rolled back.

    """
    async with conn.transaction():
        await conn.execute(_MIGRATE_LOCK)
        await conn.execute(_CREATE_VERSION_TABLE)
        current = await _checked_version(conn, target, migrations)
    for migration in migrations:
        if migration.version <= current:
            continue
        if up_to is not None and migration.version > up_to:
            break
        current = await _apply(conn, migration, target, migrations)
    return current


async def _checked_version(
    conn: Any, target: PostgresTarget, migrations: Sequence[Migration]
) -> int:
    current: int = await conn.fetchval(_SCHEMA_VERSION)
    return refuse_newer(current, migrations, target.display)


async def _apply(
    conn: Any, migration: Migration, target: PostgresTarget, migrations: Sequence[Migration]
) -> int:
    """Apply one migration unless another process did meanwhile; returns the version now."""
    try:
        async with conn.transaction():
            # Migrations may rewrite big tables: no statement timeout for them.
            await conn.execute("SET LOCAL statement_timeout = 0")
            await conn.execute(_MIGRATE_LOCK)
            current = await _checked_version(conn, target, migrations)
            if current >= migration.version:
                return current
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
    except asyncpg.PostgresError as exc:
        if str(getattr(exc, "sqlstate", ""))[:2] in {"08", "57"}:
            raise  # the connection or server failed: not the migration's fault
        raise MigrationError(
            target.display,
            f"migration {migration.label} failed and was rolled back: {target.scrub(str(exc))}",
        ) from exc
    log.info("%s: applied migration %s", target.display, migration.label)
    return migration.version
