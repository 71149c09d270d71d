"""The memory store: one implementation of every method, over either backend."""

from __future__ import annotations

from typing import Any, Self

from bot.memory.backend import FORGOTTEN, SHEET, UserCallback
from bot.memory.channels import ChannelsMixin
from bot.memory.ledger import LedgerMixin
from bot.memory.lorebooks import LorebooksMixin
from bot.memory.messages import MessagesMixin
from bot.memory.migrate import latest_version
from bot.memory.recall import RecallMixin
from bot.memory.summaries import SummariesMixin

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


class Store(ChannelsMixin, MessagesMixin, SummariesMixin, RecallMixin, LorebooksMixin, LedgerMixin):
    """Per-channel roleplay memory: typed async methods over one database (`open_store`).

    Every method is atomic and raises `StoreError` subclasses (`NotFoundError` for ids not
    stored, where it cannot answer None/False). Times are Unix seconds from its clock.
    """

    def __repr__(self) -> str:
        return f"Store({self._db.name}, {self._db.location!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
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

    async def on_forgotten(self, callback: UserCallback) -> None:
        """Call `callback(user_id)` whenever another process sharing the database forgets a user,
        so this one drops what it cached of them; `callback(None)`: reports may have been
        missed (the link to the database was lost a while), any user may be concerned.

        This store's own forgets are not reported. Reports start before this returns;
        callbacks run in the event loop and must not block. SQLite has no one to tell.

        Raises:
            DatabaseUnavailableError: the store could not start listening.

        """
        await self._db.subscribe(callback, FORGOTTEN)

    async def on_sheet_changed(self, callback: UserCallback) -> None:
        """Call `callback(user_id)` whenever another process saves or clears a player's sheet
        (a global one shows in every guild); otherwise as `on_forgotten`.

        Raises:
            DatabaseUnavailableError: the store could not start listening.

        """
        await self._db.subscribe(callback, SHEET)
