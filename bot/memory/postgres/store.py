"""The PostgreSQL memory store: one schema shared by any number of processes, over a pool."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg

from bot.memory.derived import DerivedStore
from bot.memory.migrate import load_migrations
from bot.memory.postgres.base import DRIVER_ERRORS, Clock, translate_error
from bot.memory.postgres.channels import ChannelsMixin
from bot.memory.postgres.events import FORGOTTEN, SHEET, MemoryListener
from bot.memory.postgres.history import HistoryMixin
from bot.memory.postgres.leases import LeasesMixin
from bot.memory.postgres.messages import MessagesMixin
from bot.memory.postgres.personas import PersonasMixin
from bot.memory.postgres.privacy import PrivacyMixin
from bot.memory.postgres.schema import migrate, schema_version
from bot.memory.postgres.summaries import SummariesMixin
from bot.memory.postgres.target import PoolOptions, PostgresTarget, parse_target
from bot.memory.postgres.usage import UsageMixin
from bot.memory.rows import COUNTED_TABLES
from bot.memory.store import ForgottenCallback, SheetChangedCallback

log = logging.getLogger(__name__)

STALE_STREAM_S = 600.0
"""A reply streaming for longer than this is abandoned: far above any model timeout."""

CLOSE_TIMEOUT_S = 10.0
"""How long `close` waits for borrowed connections before cutting them."""

TABLES = (
    "guild_settings",
    "channels",
    "channel_cast",
    "personas",
    "player_sheets",
    "messages",
    "discord_parts",
    "swipes",
    "summaries",
    "pins",
    "usage_ledger",
    "leases",
)
"""Every table the store keeps (besides `schema_version`)."""

# Replies left streaming since before the cutoff: the current alternative's start time is
# the message's for a single take, else that of the swipe on show.
_INTERRUPT_STALE_REPLIES = """
UPDATE messages AS m SET status = 'interrupted'
WHERE m.status = 'streaming'
  AND CASE WHEN m.swipe_count > 1
           THEN (SELECT s.created_at FROM swipes AS s
                 WHERE s.message_id = m.id AND s.idx = m.swipe_index)
           ELSE m.created_at END < $1
RETURNING m.id
"""

_INTEGRITY_CHECKS = {
    "alternative on show out of range": (
        "SELECT id FROM messages WHERE swipe_index < 0 OR swipe_index >= swipe_count LIMIT 10"
    ),
    "alternatives missing or extra": """
        SELECT m.id FROM messages AS m JOIN swipes AS s ON s.message_id = m.id
        GROUP BY m.id, m.swipe_count
        HAVING m.swipe_count = 1 OR COUNT(*) <> m.swipe_count
            OR MIN(s.idx) <> 0 OR MAX(s.idx) <> m.swipe_count - 1
        UNION ALL
        SELECT m.id FROM messages AS m
        WHERE m.swipe_count > 1 AND NOT EXISTS (SELECT 1 FROM swipes WHERE message_id = m.id)
        LIMIT 10
    """,
    "Discord parts without a first Discord id": (
        "SELECT id FROM messages WHERE discord_id IS NULL AND more_discord_ids <> '' LIMIT 10"
    ),
}


class PostgresStore(
    ChannelsMixin,
    PersonasMixin,
    MessagesMixin,
    HistoryMixin,
    SummariesMixin,
    UsageMixin,
    PrivacyMixin,
    LeasesMixin,
    DerivedStore,
):
    """The memory store on a PostgreSQL server; open it with `open` or `open_store`."""

    def __init__(self, pool: Any, target: PostgresTarget, clock: Clock) -> None:
        super().__init__(pool, target, clock)
        self._closed = False
        self._listener = MemoryListener(target, self._sender)

    def __repr__(self) -> str:
        return f"PostgresStore({self._target.display!r})"

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock = time.time,
        options: PoolOptions | None = None,
        stale_stream_s: float = STALE_STREAM_S,
    ) -> PostgresStore:
        """Connect a pool to `url`, upgrade its schema, and interrupt abandoned replies.

        `options` are the defaults; query parameters of the URL override them (see
        `bot.memory.postgres.target`). Other processes may be using the same database, so
        only replies streaming for more than `stale_stream_s` are marked interrupted: theirs
        are still live, and a crashed process's are at least that old by then.

        Raises:
            DatabaseUnavailableError: the server cannot be reached or refuses us.
            SchemaTooNewError: a newer version of the bot upgraded the schema.
            MigrationError: upgrading the schema failed (it keeps its old version).

        """
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
        store = cls(pool, target, clock)
        try:
            async with store._connection() as conn:
                await migrate(conn, load_migrations("postgres"), target)
            await store._interrupt_abandoned(stale_stream_s)
        except BaseException:
            pool.terminate()
            raise
        return store

    async def on_forgotten(self, callback: ForgottenCallback) -> None:
        """Call `callback(user_id)` when another process forgets a user (see `Store`).

        The first callback opens a connection of its own, outside the pool, that listens
        for the notifications `forget_user` sends; if it drops, it is opened again and
        the callbacks get None, since forgets may have been missed meanwhile.
        """
        await self._listener.subscribe(callback, FORGOTTEN)

    async def on_sheet_changed(self, callback: SheetChangedCallback) -> None:
        """Call `callback(user_id)` when another process saves or clears a sheet (see `Store`).

        Shares the listening connection of `on_forgotten`; after it reconnects, the
        callbacks get None, since changes may have been missed meanwhile.
        """
        await self._listener.subscribe(callback, SHEET)

    @property
    def listener(self) -> MemoryListener:
        """The connection listening for other processes' forgets and sheet changes."""
        return self._listener

    async def close(self) -> None:
        """Stop listening and close the pool's connections; calling it twice is harmless."""
        if self._closed:
            return
        self._closed = True
        await self._listener.close()
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            log.warning("%s: connections still busy after %ss; cut", self.url, CLOSE_TIMEOUT_S)
            self._pool.terminate()

    async def stats(self) -> dict[str, Any]:
        """Backend, URL (redacted), schema version, size and row counts."""
        async with self._connection() as conn:
            counts = {
                table: await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
                for table in COUNTED_TABLES
            }
            enabled = await conn.fetchval("SELECT COUNT(*) FROM channels WHERE enabled")
            version = await schema_version(conn)
            size = await conn.fetchval(
                "SELECT COALESCE(SUM(pg_total_relation_size(to_regclass(name))), 0)::BIGINT "
                "FROM unnest($1::TEXT[]) AS name",
                [*TABLES, "schema_version"],
            )
            server = await conn.fetchval("SHOW server_version")
        return {
            "backend": "postgresql",
            "url": self.url,
            "server_version": server,
            "schema_version": version,
            "latest_schema_version": len(load_migrations("postgres")),
            "size_bytes": size,
            "enabled_channels": enabled,
            **counts,
        }

    async def integrity_check(self) -> list[str]:
        """Broken invariants the constraints can't express; empty when healthy.

        Foreign keys and checks are enforced by the server itself, and page-level damage
        surfaces as `CorruptDatabaseError` when read.
        """
        problems = []
        async with self._connection() as conn:
            for problem, query in _INTEGRITY_CHECKS.items():
                ids = [row[0] for row in await conn.fetch(query)]
                if ids:
                    problems.append(f"{problem}: message ids {ids}")
        return problems

    async def _interrupt_abandoned(self, stale_stream_s: float) -> None:
        cutoff = self._clock() - stale_stream_s
        async with self._transaction() as conn:
            replies = await conn.fetch(_INTERRUPT_STALE_REPLIES, cutoff)
            await conn.execute(
                "UPDATE swipes SET status = 'interrupted' "
                "WHERE status = 'streaming' AND created_at < $1",
                cutoff,
            )
        if replies:
            log.info("%s: marked %d abandoned replies interrupted", self.url, len(replies))
