"""The SQLite dialect: one database file in WAL mode behind one connection and one lock."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiorwlock
import aiosqlite

from bot.memory.backend import Backend, ConflictError, Connection, Row, Search
from bot.memory.errors import (
    CorruptDatabaseError,
    DatabaseFileError,
    DatabaseUnavailableError,
    MigrationError,
)
from bot.memory.migrate import (
    DatabaseState,
    Migration,
    latest_version,
    load_migrations,
    refuse_newer,
)

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

_CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_UNAVAILABLE_CODES = {
    sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_PERM, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_AUTH,
}  # fmt: skip
_CONFLICT_CODES = {sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY}
_PLACEHOLDER = re.compile(r"\$(\d+)")

INDEX_BATCH = 256
"""New messages indexed together for recall (see migration 0004): one FTS5 commit each
would slow every stored message by half."""

_UNINDEXED = (
    "SELECT indexed_until, (SELECT COALESCE(MAX(id), 0) FROM messages) FROM recall_index_state"
)
_INDEX_NEW = (
    "INSERT INTO recall_index (rowid, text) SELECT id, text FROM messages "
    "WHERE id > (SELECT indexed_until FROM recall_index_state) "
    "AND status IN ('complete', 'interrupted') ORDER BY id"
)
_MARK_INDEXED = (
    "UPDATE recall_index_state SET indexed_until = "
    "MAX(indexed_until, (SELECT COALESCE(MAX(id), 0) FROM messages))"
)
_INDEX_SIZES = """
SELECT (SELECT COUNT(*) FROM recall_index), (SELECT COUNT(*) FROM summaries)
    + (SELECT COUNT(*) FROM messages WHERE status IN ('complete', 'interrupted')
       AND id <= (SELECT indexed_until FROM recall_index_state))
"""
_COUNT_MATCHES = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM recall_index WHERE recall_index MATCH $1 LIMIT $2)"
)
# FTS5 is the outer loop (CROSS JOIN), so only its matches are looked up; bm25 is negative.
_SEARCH = """
SELECT * FROM (
    SELECT 'message', m.id, m.author_name, m.text, m.created_at, -bm25(recall_index) AS score
    FROM recall_index CROSS JOIN messages AS m ON m.id = recall_index.rowid
    WHERE recall_index MATCH $1 AND recall_index.rowid > $2 AND recall_index.rowid < $3
        AND m.channel_id = $4 AND ($5 OR NOT m.ooc)
    ORDER BY score DESC, m.id DESC LIMIT $6)
UNION ALL
SELECT * FROM (
    SELECT 'summary', s.id, NULL, s.text, s.created_at, -bm25(recall_index) AS score
    FROM recall_index CROSS JOIN summaries AS s ON s.id = -recall_index.rowid
    WHERE recall_index MATCH $1 AND recall_index.rowid < 0
        AND s.channel_id = $4 AND s.persona_id = $7 AND s.covers_until < $3
        AND s.version < (SELECT MAX(version) FROM summaries
                         WHERE channel_id = $4 AND persona_id = $7)
    ORDER BY score DESC, s.id DESC LIMIT 1)
"""


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
    if code in _CONFLICT_CODES:
        return ConflictError(path, f"database error: {exc}")
    return DatabaseFileError(path, f"database error: {exc}")


def sqlite_sql(sql: str, cache: dict[str, str] = {}) -> str:  # noqa: B006 (a memo)
    """`sql` with PostgreSQL's `$n` placeholders rewritten to SQLite's `?n`."""
    rewritten = cache.get(sql)
    if rewritten is None:
        rewritten = cache[sql] = _PLACEHOLDER.sub(r"?\1", sql)
    return rewritten


class SqliteBackend(Backend, Connection):
    """One file behind one connection, whose thread runs statements one at a time.

    Autocommit sessions share the connection: their statements queue on its thread and
    commit one by one, so a hundred channels storing a line at once cost one queue, not a
    hundred handovers of the event loop. A transaction (or anything that must not have
    others' statements between its own) takes it exclusively: it waits for the sessions
    in progress, and new ones wait for it.
    """

    name = migrations = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self._sessions = aiorwlock.RWLock(fast=True)
        self._closed = False
        self._unindexed = 0
        self.location = path

    @classmethod
    async def open(cls, path: str) -> SqliteBackend:
        """Open (or create) the file, its folder, and bring its schema up to date."""
        name = _prepare_file(path)
        try:
            db = await aiosqlite.connect(name, isolation_level=None, cached_statements=256)
        except sqlite3.Error as exc:
            raise translate_error(exc, name) from exc
        try:
            await _configure(db, name)
            await migrate(db, load_migrations("sqlite"), name)
            await db.execute_fetchall("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            await db.close()
            raise translate_error(exc, name) from exc
        except BaseException:
            await db.close()
            raise
        return cls(db, name)

    def connection(self) -> AbstractAsyncContextManager[Connection]:
        """A session in autocommit (each statement commits on its own), shared with others."""
        return self._holding(alone=False)

    def _exclusive(self) -> AbstractAsyncContextManager[Connection]:
        """The connection to this session alone: nobody's statements run between its own."""
        return self._holding(alone=True)

    @asynccontextmanager
    async def _holding(self, *, alone: bool) -> AsyncIterator[Connection]:
        sessions = self._sessions
        async with sessions.writer_lock if alone else sessions.reader_lock:
            try:
                yield self
            except sqlite3.Error as exc:
                raise translate_error(exc, self.location) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """Exclusive use of the connection inside one write transaction."""
        async with self._exclusive() as conn:
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
            except BaseException:
                await _rollback(self._db)
                raise
            await conn.execute("COMMIT")

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Every row of a statement (including `RETURNING` rows)."""
        return list(await self._db.execute_fetchall(sqlite_sql(sql), args))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""
        await self._db.executemany(sqlite_sql(sql), rows)

    async def count(self, sql: str, *args: Any) -> int:
        """Run a write; how many rows it changed."""
        async with self._db.execute(sqlite_sql(sql), args) as cursor:
            return cursor.rowcount

    def any_of(self, column: str, placeholder: str, ids: Iterable[int]) -> tuple[str, Any]:
        """`column` is in a JSON array of the ids."""
        array = json.dumps([int(value) for value in ids])
        return f"{column} IN (SELECT value FROM json_each({placeholder}))", array

    async def message_added(self) -> None:
        """Index the new lines once `INDEX_BATCH` are waiting."""
        self._unindexed += 1
        if self._unindexed >= INDEX_BATCH:
            await self.refresh_search()

    async def refresh_search(self, before_id: int | None = None) -> None:
        """Index every line stored since the last batch, in one transaction; nothing when
        the lines below `before_id` are all indexed already (a recall searches only those,
        and most turns' recall would otherwise take the connection alone to index the
        newest two lines).
        """
        async with self.connection() as conn:
            row = await conn.fetchrow(_UNINDEXED)
        if row is None or row[1] <= row[0]:
            self._unindexed = 0
            return
        if before_id is not None and row[0] >= before_id - 1:
            return
        self._unindexed = 0
        async with self.transaction() as conn:
            await conn.execute(_INDEX_NEW)
            await conn.execute(_MARK_INDEXED)

    async def count_matches(self, conn: Connection, words: Sequence[str], cap: int) -> list[int]:
        """A capped count per word; FTS5 stops reading a word's list at `cap`."""
        return [await conn.fetchval(_COUNT_MATCHES, fts_phrase(word), cap) for word in words]

    async def search(self, conn: Connection, search: Search) -> list[Row]:
        """FTS5 ranks matches with bm25 (rarer words and shorter lines score higher)."""
        query = " OR ".join(fts_phrase(word) for word in search.words)
        return await conn.fetch(
            _SEARCH,
            query, search.after_id, search.before_id, search.channel_id, search.include_ooc,
            search.limit, search.summary_key,
        )  # fmt: skip

    async def after_erase(self) -> None:
        """Merge the recall index into one segment (a deleted line's words stay in older
        segments until then), rewrite the file from the live rows (pages keep stale copies
        of deleted rows in their free space) and empty the write-ahead log (it keeps older
        pages).
        """
        async with self._exclusive() as conn:
            await conn.execute("INSERT INTO recall_index (recall_index) VALUES ('optimize')")
            await conn.execute("VACUUM")
            row = await conn.fetchrow("PRAGMA wal_checkpoint(TRUNCATE)")
        if row is not None and row[0]:
            log.warning("%s: WAL checkpoint was blocked; erased data may linger", self.location)

    async def describe(self, conn: Connection) -> dict[str, Any]:
        """The file, its size on disk (with its WAL) and `PRAGMA user_version`."""
        parts = (Path(self.location), Path(f"{self.location}-wal"))
        size = sum(part.stat().st_size for part in parts if part.exists())
        version = await conn.fetchval("PRAGMA user_version")
        return {"path": self.location, "size_bytes": size, "schema_version": version}

    async def problems(self, conn: Connection) -> list[str]:
        """What `PRAGMA integrity_check` and `foreign_key_check` find, and whether the recall
        index is sound and holds as many lines as it should.
        """
        problems = await _problems(conn.fetch)
        try:
            await conn.execute("INSERT INTO recall_index (recall_index) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            problems.append(f"recall index: {exc}")
        indexed, expected = await conn.fetchrow(_INDEX_SIZES) or (0, 0)
        if indexed != expected:
            problems.append(f"recall index holds {indexed} lines instead of {expected}")
        return problems

    async def close(self) -> None:
        """Optimise the query planner's statistics and close the file."""
        if self._closed:
            return
        self._closed = True
        async with self._sessions.writer_lock:
            try:
                await self._db.execute_fetchall("PRAGMA optimize")
            except sqlite3.Error as exc:
                # Closing must not hide the error that is usually the reason for closing.
                log.debug("%s: PRAGMA optimize failed on close: %s", self.location, exc)
            finally:
                await self._db.close()


STATE_VERSION = 3
"""The schema version that added `runtime_state`."""


async def inspect(path: str) -> DatabaseState:
    """The file's schema version, read without creating or changing any file."""
    file, uri = _read_only_uri(path)
    latest = latest_version("sqlite")
    if uri is None:
        return DatabaseState(file, False, 0, latest)
    try:
        async with aiosqlite.connect(uri, uri=True) as db:
            version = await _user_version(db)
            problems = await _problems(db.execute_fetchall)
            state: dict[str, str] = {}
            if version >= STATE_VERSION:
                rows = await db.execute_fetchall("SELECT key, value FROM runtime_state")
                state = {str(key): str(value) for key, value in rows}
    except sqlite3.Error as exc:
        raise translate_error(exc, file) from exc
    return DatabaseState(file, True, version, latest, tuple(problems), state)


def _read_only_uri(path: str) -> tuple[str, str | None]:
    """The file's name, and a URI that opens it read-only (None if there is no file)."""
    file = Path(path).expanduser()
    if not file.exists():
        return str(file), None
    # A read-only connection to a WAL file creates the -wal and -shm files unless they are
    # there; without them every change is in the main file, which `immutable` reads alone.
    live = Path(f"{file}-wal").exists() and Path(f"{file}-shm").exists()
    return str(file), f"file:{quote(str(file.resolve()))}?mode=ro{'' if live else '&immutable=1'}"


async def _user_version(db: aiosqlite.Connection) -> int:
    return int(next(iter(await db.execute_fetchall("PRAGMA user_version")))[0])


async def _problems(fetch: Any) -> list[str]:
    rows = await fetch("PRAGMA integrity_check")
    broken_keys = await fetch("PRAGMA foreign_key_check")
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    return problems + [f"broken foreign key: {tuple(row)}" for row in broken_keys]


async def migrate(
    db: aiosqlite.Connection,
    migrations: Sequence[Migration],
    path: str,
    *,
    target: int | None = None,
) -> int:
    """Apply the migrations above the database's version (up to `target`); returns the version.

    Each migration commits with its version bump: a failure or a crash leaves the previous
    version, nothing of the step applied. Foreign keys must be off on `db` (a table rebuild
    needs them off); they are checked before each commit instead.

    Raises:
        SchemaTooNewError: the database is newer than every migration known here.
        MigrationError: a migration failed; it was rolled back.

    """
    current = refuse_newer(await _user_version(db), migrations, path)
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
        await _rollback(db)
        if isinstance(exc, sqlite3.Error):
            error = translate_error(exc, path)
            if type(error) in (DatabaseFileError, ConflictError):
                error = MigrationError(
                    path, f"migration {migration.label} failed and was rolled back: {exc}"
                )
            raise error from exc
        raise


async def _rollback(db: aiosqlite.Connection) -> None:
    # Not guarded by `in_transaction`: a cancelled BEGIN may still be queued on the
    # connection's thread, and this ROLLBACK queues behind it. If none was active, SQLite
    # says so with an error, which is not news.
    with suppress(sqlite3.Error):
        await db.execute_fetchall("ROLLBACK")


async def _configure(db: aiosqlite.Connection, path: str) -> None:
    for pragma in _PRAGMAS:
        await db.execute_fetchall(pragma)
    # The first statement that reads the file: a damaged or foreign file fails here.
    mode = next(iter(await db.execute_fetchall("PRAGMA journal_mode = WAL")))[0]
    if mode != "wal":
        log.warning("%s: could not switch to WAL (journal mode is %s)", path, mode)
    await db.execute_fetchall("SELECT COUNT(*) FROM sqlite_schema")


def fts_phrase(word: str) -> str:
    """`word` as an FTS5 string: every character literal, split into words by the index's
    tokenizer and matched as a phrase.
    """
    return '"' + word.replace('"', '""') + '"'


def _prepare_file(path: str) -> str:
    file = Path(path).expanduser()
    name = str(file)
    if file.is_dir():
        raise DatabaseUnavailableError(name, "is a directory, not a database file")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailableError(name, f"cannot create its folder: {exc}") from exc
    return name
