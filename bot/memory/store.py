"""The memory store: one implementation of every method, over either backend."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from bot.memory.backend import FORGOTTEN, SHEET
from bot.memory.channels import ChannelsMixin
from bot.memory.ledger import LedgerMixin
from bot.memory.messages import MessagesMixin
from bot.memory.migrate import latest_version
from bot.memory.summaries import SummariesMixin

ForgottenCallback = Callable[[int | None], None]
"""Told the id of a user another process forgot, or None if any user may have been."""
SheetChangedCallback = Callable[[int | None], None]
"""Told the id of a player whose sheet another process saved or cleared, or None if any
player's may have changed."""

COUNTED_TABLES = (
    "messages channels personas player_sheets summaries pins usage_ledger".split()  # noqa: SIM905
)
"""The tables whose row counts `stats` reports."""

# Invariants the constraints can't express, checked on both backends.
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


class Store(ChannelsMixin, MessagesMixin, SummariesMixin, LedgerMixin):
    """Per-channel roleplay memory: typed async methods over one database.

    Open it with `open_store`. Every method is atomic. Failures raise
    `bot.memory.errors.StoreError` subclasses; ids that are not stored raise
    `NotFoundError` where a method cannot answer None/False. Times are Unix seconds from
    the store's clock.
    """

    def __repr__(self) -> str:
        return f"Store({self._db.name}, {self._db.location!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Flush and close; calling it twice is harmless."""
        await self._db.close()

    async def stats(self) -> dict[str, Any]:
        """Backend, location, schema version, size and row counts."""
        async with self._db.connection() as conn:
            counts = {
                table: await conn.fetchval(f"SELECT COUNT(*) FROM {table}")
                for table in COUNTED_TABLES
            }
            enabled = await conn.fetchval("SELECT COUNT(*) FROM channels WHERE enabled = TRUE")
            details = await self._db.describe(conn)
        return {
            "backend": self._db.name,
            **details,
            "latest_schema_version": latest_version(self._db.migrations),
            "enabled_channels": enabled,
            **counts,
        }

    async def integrity_check(self) -> list[str]:
        """Problems found by a full consistency check of the database; empty when healthy."""
        async with self._db.connection() as conn:
            problems = await self._db.problems(conn)
            for problem, query in _INTEGRITY_CHECKS.items():
                ids = [row[0] for row in await conn.fetch(query)]
                if ids:
                    problems.append(f"{problem}: message ids {ids}")
        return problems

    async def on_forgotten(self, callback: ForgottenCallback) -> None:
        """Call `callback(user_id)` whenever another process sharing the database forgets a user.

        Processes keep what they read in memory, so each must drop what it holds of a user
        that `forget_user` erased elsewhere. `callback(None)` means reports may have been
        missed (the store lost its link to the database for a while): any user may have been
        forgotten. Forgets made through this store are not reported; the caller knows them.
        Reports start before this returns. Callbacks run in the event loop and must not block.
        A database only one process uses (SQLite) has no one to tell: nothing is reported.

        Raises:
            DatabaseUnavailableError: the store could not start listening.

        """
        await self._db.subscribe(callback, FORGOTTEN)

    async def on_sheet_changed(self, callback: SheetChangedCallback) -> None:
        """Call `callback(user_id)` whenever another process saves or clears a player's sheet.

        A global sheet is used in every guild, so each process must look up again the sheets
        it cached of that player. `callback(None)` means reports may have been missed: any
        player's sheet may have changed. Otherwise as `on_forgotten`.

        Raises:
            DatabaseUnavailableError: the store could not start listening.

        """
        await self._db.subscribe(callback, SHEET)
