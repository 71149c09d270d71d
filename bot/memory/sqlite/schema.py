"""Bringing an SQLite database up to the newest schema, one atomic migration at a time."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

import aiosqlite

from bot.memory.errors import DatabaseFileError, MigrationError, SchemaTooNewError
from bot.memory.migrate import Migration
from bot.memory.sqlite.base import Sql, rollback, translate_error

log = logging.getLogger(__name__)


async def schema_version(db: aiosqlite.Connection, path: str) -> int:
    """The database's `PRAGMA user_version`: the last migration applied."""
    version: int = await Sql(db, path).scalar("PRAGMA user_version")
    return version


async def migrate(
    db: aiosqlite.Connection,
    migrations: Sequence[Migration],
    path: str,
    *,
    target: int | None = None,
) -> int:
    """Apply the migrations above the database's version (up to `target`); returns the version.

    Each migration and its version bump commit together, so a failure or a crash leaves the
    database at the previous version with nothing of the failed step applied. Foreign keys
    must be off on `db` (SQLite ignores that pragma inside a transaction), and are checked
    before each commit instead.

    Raises:
        SchemaTooNewError: the database is newer than every migration known here.
        MigrationError: a migration failed; it was rolled back.

    """
    current = await schema_version(db, path)
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise SchemaTooNewError(
            path,
            f"schema version {current} is newer than this build's {latest}; "
            "run the newer version of the bot, or restore a backup",
        )
    for migration in migrations:
        if migration.version <= current or (target is not None and migration.version > target):
            continue
        await _apply(db, migration, path)
        current = migration.version
        log.info("%s: applied migration %s", path, migration.label)
    return current


async def _apply(db: aiosqlite.Connection, migration: Migration, path: str) -> None:
    try:
        await db.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}\n;")
        broken = await db.execute_fetchall("PRAGMA foreign_key_check")
        if broken:
            raise MigrationError(
                path, f"migration {migration.label} leaves broken foreign keys: {list(broken)}"
            )
        await db.execute_fetchall(f"PRAGMA user_version = {int(migration.version)}")
        await db.execute_fetchall("COMMIT")
    except BaseException as exc:
        await rollback(Sql(db, path))
        if isinstance(exc, sqlite3.Error):
            error = translate_error(exc, path)
            if type(error) is DatabaseFileError:
                error = MigrationError(
                    path, f"migration {migration.label} failed and was rolled back: {exc}"
                )
            raise error from exc
        raise
