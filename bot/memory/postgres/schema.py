"""Bringing a PostgreSQL schema up to the newest version, one atomic migration at a time."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg

from bot.memory.errors import MigrationError, SchemaTooNewError
from bot.memory.migrate import Migration
from bot.memory.postgres.base import Connection
from bot.memory.postgres.target import PostgresTarget

log = logging.getLogger(__name__)

_LOCK = (
    "SELECT pg_advisory_xact_lock("
    "hashtextextended('ensemble.migrate:' || COALESCE(current_schema(), ''), 0))"
)

_CREATE_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


async def schema_version(conn: Connection) -> int:
    """The newest migration applied to the connection's schema (0 for an empty schema)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    version: int = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    return version


async def migrate(
    conn: Connection,
    migrations: Sequence[Migration],
    target: PostgresTarget,
    *,
    up_to: int | None = None,
) -> int:
    """Apply the migrations above the schema's version (up to `up_to`); returns the version.

    PostgreSQL has no `user_version`: the `schema_version` table keeps one row per applied
    migration. Each migration, its row and the version check before it share one transaction
    that first takes a transaction-scoped advisory lock, so processes starting together apply
    every migration exactly once: the others wait, then see it done. The lock is keyed on
    the schema, so deployments in separate schemas of one database don't wait for each other.

    Raises:
        SchemaTooNewError: the schema is newer than every migration known here.
        MigrationError: a migration failed; it was rolled back.

    """
    latest = migrations[-1].version if migrations else 0
    current = await _locked_version(conn, target, latest)
    for migration in migrations:
        if migration.version <= current:
            continue
        if up_to is not None and migration.version > up_to:
            break
        current = await _apply(conn, migration, target, latest)
    return current


async def _locked_version(conn: Connection, target: PostgresTarget, latest: int) -> int:
    async with conn.transaction():
        await conn.execute(_LOCK)
        await conn.execute(_CREATE_VERSION_TABLE)
        return await _checked_version(conn, target, latest)


async def _checked_version(conn: Connection, target: PostgresTarget, latest: int) -> int:
    current = await schema_version(conn)
    if current > latest:
        raise SchemaTooNewError(
            target.display,
            f"schema version {current} is newer than this build's {latest}; "
            "run the newer version of the bot, or restore a backup",
        )
    return current


async def _apply(
    conn: Connection, migration: Migration, target: PostgresTarget, latest: int
) -> int:
    """Apply one migration unless another process did meanwhile; returns the version now."""
    try:
        async with conn.transaction():
            # Migrations may rewrite big tables: no statement timeout for them.
            await conn.execute("SET LOCAL statement_timeout = 0")
            await conn.execute(_LOCK)
            current = await _checked_version(conn, target, latest)
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
