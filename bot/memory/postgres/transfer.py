"""Copying an SQLite memory into PostgreSQL, ids and all, then proving the copy exact."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bot.memory.errors import DatabaseFileError, DatabaseUnavailableError
from bot.memory.migrate import load_migrations
from bot.memory.postgres.backend import migrate
from bot.memory.postgres.target import DRIVER_ERRORS, PostgresTarget, parse_target, translate_error
from bot.memory.sqlite import SqliteBackend
from bot.memory.sqlite import translate_error as translate_sqlite_error

Connection = Any
"""An `asyncpg.Connection` (asyncpg ships no type hints)."""

BATCH_ROWS = 5000
"""Rows read from SQLite and sent to PostgreSQL at a time."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table as the copy sees it: its columns, key, and columns needing conversion."""

    name: str
    columns: tuple[str, ...]
    """In SQLite's order (the copy reads SQLite's schema, both sides hold the same)."""
    key: tuple[str, ...]
    booleans: frozenset[str] = frozenset()
    """INTEGER 0/1 in SQLite, BOOLEAN in PostgreSQL."""
    text_keys: frozenset[str] = frozenset()
    """Key columns of text, compared byte by byte on both sides."""
    identity: bool = False
    """Whether `id` is generated, so PostgreSQL's sequence must continue after the copy."""


TABLES = (  # noqa: SIM905 (names, tersely)
    "guild_settings channels channel_cast personas player_sheets messages discord_parts "
    "swipes summaries pins usage_ledger runtime_state lorebooks persona_ratings"
).split()
"""Every table that holds memory, parents before children. Leases are not copied: they
only mean something to processes running right now. Nor is SQLite's recall index:
PostgreSQL computes its own (`search` columns) from the rows copied."""


async def table_specs(db: aiosqlite.Connection, conn: Connection) -> list[TableSpec]:
    """How to copy and compare each of `TABLES`, read from both schemas."""
    typed = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    booleans = {(row[0], row[1]) for row in typed if row[2] == "boolean"}
    identities = {row[0] for row in typed if row[3] == "YES"}
    specs = []
    for name in TABLES:
        async with db.execute(f"SELECT name, type, pk FROM pragma_table_info('{name}')") as cursor:
            info = list(await cursor.fetchall())
        key = [(row[2], row[0], row[1]) for row in info if row[2]]
        specs.append(
            TableSpec(
                name,
                tuple(row[0] for row in info),
                tuple(column for _, column, _ in sorted(key)),
                frozenset(row[0] for row in info if (name, row[0]) in booleans),
                frozenset(column for _, column, kind in key if kind == "TEXT"),
                name in identities,
            )
        )
    return specs


class TargetNotEmptyError(DatabaseFileError):
    """The PostgreSQL database already holds a memory; it was left untouched."""


@dataclass(frozen=True, slots=True)
class TableCheck:
    """Row counts and checksums of one table on both sides."""

    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def matches(self) -> bool:
        """Same rows on both sides."""
        source = (self.source_rows, self.source_checksum)
        return source == (self.target_rows, self.target_checksum)


@dataclass(frozen=True, slots=True)
class TransferReport:
    """What was copied and how the verification went."""

    source: str
    target: str
    """The target URL with any password redacted."""
    checks: tuple[TableCheck, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """Every table matches."""
        return all(check.matches for check in self.checks)


async def copy_sqlite_to_postgres(
    sqlite_path: str | Path,
    url: str,
    *,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TransferReport:
    """Copy every memory table of an SQLite file into the PostgreSQL database at `url`.

    Both get the latest schema first. One SQLite snapshot is copied in one PostgreSQL
    transaction (binary COPY): whole or not at all; ids then continue above every id SQLite
    handed out. `compare` then reads both afresh. Nothing may write to either meanwhile.

    Raises:
        DatabaseUnavailableError: the SQLite file does not exist, or a database is unusable.
        TargetNotEmptyError: the target holds memory rows and `replace` is False.
        StoreError: anything else that stopped the copy; PostgreSQL was left unchanged.

    """
    started = time.perf_counter()
    say = progress or _quiet
    source = await _upgraded_source(sqlite_path)
    target = parse_target(url)
    async with _postgres(target) as conn, _sqlite(source) as db:
        await migrate(conn, load_migrations("postgres"), target)
        async with conn.transaction():
            await _claim_target(conn, target, replace=replace)
            await db.execute("BEGIN")  # one snapshot for every table
            specs = await table_specs(db, conn)
            for spec in specs:
                rows = await _copy_table(db, conn, spec, target)
                say(f"copied {spec.name}: {rows:,} rows")
            await _continue_sequences(db, conn, specs)
            await db.rollback()
    checks = await compare(source, url)
    return TransferReport(source, target.display, checks, time.perf_counter() - started)


async def compare(sqlite_path: str | Path, url: str) -> tuple[TableCheck, ...]:
    """Row counts and checksums of every memory table in an SQLite file and in PostgreSQL.

    Each checksum is a SHA-256 over every row in key order (text keys byte by byte,
    booleans as 0/1), so equal checksums mean equal tables.
    """
    target = parse_target(url)
    checks = []
    async with _postgres(target) as conn, _sqlite(str(sqlite_path)) as db:
        await db.execute("BEGIN")
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            for spec in await table_specs(db, conn):
                source_rows, source_sum = await _digest(_sqlite_rows(db, spec))
                target_rows, target_sum = await _digest(_postgres_rows(conn, spec))
                checks.append(
                    TableCheck(spec.name, source_rows, target_rows, source_sum, target_sum)
                )
        await db.rollback()
    return tuple(checks)


async def _upgraded_source(sqlite_path: str | Path) -> str:
    path = _existing_file(sqlite_path)
    await (await SqliteBackend.open(path)).close()
    return path


def _existing_file(sqlite_path: str | Path) -> str:
    path = Path(sqlite_path).expanduser()
    if not path.is_file():
        raise DatabaseUnavailableError(str(path), "no such SQLite file")
    return str(path)


@asynccontextmanager
async def _postgres(target: PostgresTarget) -> AsyncIterator[Connection]:
    # A copy or a checksum of a big table outlasts any sensible statement timeout.
    settings = {"statement_timeout": "0", "idle_in_transaction_session_timeout": "0"}
    try:
        conn = await asyncpg.connect(
            target.dsn, timeout=target.options.connect_timeout, server_settings=settings
        )
    except DRIVER_ERRORS as exc:
        raise translate_error(exc, target) from exc
    try:
        yield conn
    except DRIVER_ERRORS as exc:
        raise translate_error(exc, target) from exc
    finally:
        await conn.close()


@asynccontextmanager
async def _sqlite(path: str) -> AsyncIterator[aiosqlite.Connection]:
    try:
        async with aiosqlite.connect(path, isolation_level=None) as db:
            await db.execute("PRAGMA query_only = ON")
            yield db
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, path) from exc


async def _claim_target(conn: Connection, target: PostgresTarget, *, replace: bool) -> None:
    names = ", ".join(TABLES)
    # Held until commit: no process can write memory while it is being replaced.
    await conn.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
    filled = [t for t in TABLES if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]
    if not filled:
        return
    if not replace:
        raise TargetNotEmptyError(
            target.display,
            f"already holds memory (tables {', '.join(filled)}); nothing was copied",
        )
    await conn.execute(f"TRUNCATE {names} RESTART IDENTITY")


async def _copy_table(
    db: aiosqlite.Connection, conn: Connection, spec: TableSpec, target: PostgresTarget
) -> int:
    booleans = [index for index, column in enumerate(spec.columns) if column in spec.booleans]
    copied = 0
    async with db.execute(_select(spec)) as cursor:
        while batch := await cursor.fetchmany(BATCH_ROWS):
            records = [_with_booleans(row, booleans) for row in batch]
            try:
                await conn.copy_records_to_table(
                    spec.name, records=records, columns=list(spec.columns)
                )
            except (asyncpg.PostgresError, ValueError, TypeError) as exc:
                raise DatabaseFileError(
                    target.display, f"copying table {spec.name} failed: {target.scrub(str(exc))}"
                ) from exc
            copied += len(records)
    return copied


async def _continue_sequences(
    db: aiosqlite.Connection, conn: Connection, specs: Sequence[TableSpec]
) -> None:
    """Start PostgreSQL's ids above every id SQLite ever handed out (deleted ones too)."""
    async with db.execute("SELECT name, seq FROM sqlite_sequence") as cursor:
        handed_out = {name: seq async for name, seq in cursor}
    for spec in specs:
        if not spec.identity:
            continue
        async with db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {spec.name}") as cursor:
            row = await cursor.fetchone()
        highest = max(handed_out.get(spec.name, 0), row[0] if row else 0)
        if highest > 0:
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence($1, 'id'), $2)", spec.name, highest
            )


def _select(spec: TableSpec, *, collate: bool = False) -> str:
    order = ", ".join(
        f'{column} COLLATE "C"' if collate and column in spec.text_keys else column
        for column in spec.key
    )
    return f"SELECT {', '.join(spec.columns)} FROM {spec.name} ORDER BY {order}"


def _with_booleans(row: Sequence[Any], booleans: Sequence[int]) -> tuple[Any, ...]:
    if not booleans:
        return tuple(row)
    values = list(row)
    for index in booleans:
        values[index] = None if values[index] is None else bool(values[index])
    return tuple(values)


async def _sqlite_rows(db: aiosqlite.Connection, spec: TableSpec) -> AsyncIterator[Sequence[Any]]:
    async with db.execute(_select(spec)) as cursor:
        while batch := await cursor.fetchmany(BATCH_ROWS):
            for row in batch:
                yield row


async def _postgres_rows(conn: Connection, spec: TableSpec) -> AsyncIterator[Sequence[Any]]:
    async for record in conn.cursor(_select(spec, collate=True), prefetch=BATCH_ROWS):
        yield record


async def _digest(rows: AsyncIterator[Sequence[Any]]) -> tuple[int, str]:
    """How many rows, and a SHA-256 of their values in order (booleans as 0/1)."""
    digest = hashlib.sha256()
    count = 0
    async for row in rows:
        values = [int(value) if isinstance(value, bool) else value for value in row]
        digest.update(json.dumps(values, ensure_ascii=True).encode("ascii"))
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def _quiet(line: str) -> None:
    """Progress nobody asked to see."""
