"""Versioned rolling summaries and pinned facts of channels, in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from bot.memory.errors import DatabaseFileError
from bot.memory.postgres.base import LOCK_AGAINST_ERASE, PostgresBase
from bot.memory.records import Pin, Summary
from bot.memory.rows import SUMMARY_COLUMNS, summary_from_row, summary_key

_CURRENT = f"""
SELECT {SUMMARY_COLUMNS} FROM summaries
WHERE channel_id = $1 AND persona_id = $2
ORDER BY version DESC
LIMIT $3
"""

_INSERT_SUMMARY = f"""
INSERT INTO summaries (channel_id, persona_id, version, text, covers_until, author_id, created_at)
VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM summaries
                 WHERE channel_id = $1 AND persona_id = $2),
        $3, $4, $5, $6)
RETURNING {SUMMARY_COLUMNS}
"""

# Two processes saving the same summary at once pick the same next version; the loser of
# the unique index tries again with the one after.
_SAVE_ATTEMPTS = 5


class SummariesMixin(PostgresBase):
    """Rolling summaries (per channel or per persona) and pins."""

    async def save_summary(
        self,
        channel_id: int,
        persona_id: str | None,
        text: str,
        covers_until: int,
        author_id: int | None = None,
    ) -> Summary:
        """Store a new version of a summary; `author_id` names an admin who wrote it."""
        now = self._clock()
        async with self._connection() as conn:
            for _ in range(_SAVE_ATTEMPTS):
                try:
                    row = await conn.fetchrow(
                        _INSERT_SUMMARY,
                        channel_id,
                        summary_key(persona_id),
                        text,
                        covers_until,
                        author_id,
                        now,
                    )
                except asyncpg.UniqueViolationError:
                    continue
                return summary_from_row(row)
        raise DatabaseFileError(
            self._target.display, f"could not pick a version for a summary of {channel_id}"
        )

    async def save_fold(
        self,
        channel_id: int,
        persona_id: str | None,
        text: str,
        covers_until: int,
        *,
        previous_id: int | None,
        folded: Sequence[int],
    ) -> Summary | None:
        """Store a folded summary unless its summary or messages were erased meanwhile."""
        ids = sorted(set(folded))
        now = self._clock()
        key = summary_key(persona_id)
        async with self._transaction() as conn:
            # Shared with other saves, exclusive with erases: whichever of a save and an
            # erase commits second sees the other's rows (each statement reads afresh).
            await conn.execute(LOCK_AGAINST_ERASE)
            current = await conn.fetchval(
                "SELECT id FROM summaries WHERE channel_id = $1 AND persona_id = $2 "
                "ORDER BY version DESC LIMIT 1",
                channel_id,
                key,
            )
            present = await conn.fetchval(
                "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND id = ANY($2::BIGINT[])",
                channel_id,
                ids,
            )
            if current != previous_id or present != len(ids):
                return None
            try:
                async with conn.transaction():  # a savepoint
                    row = await conn.fetchrow(
                        _INSERT_SUMMARY, channel_id, key, text, covers_until, None, now
                    )
            except asyncpg.UniqueViolationError:
                return None  # another process saved a version just now: ours is stale
        return summary_from_row(row)

    async def summary_history(
        self, channel_id: int, persona_id: str | None = None, *, limit: int = 20
    ) -> list[Summary]:
        """Versions of a summary, newest first."""
        async with self._connection() as conn:
            rows = await conn.fetch(_CURRENT, channel_id, summary_key(persona_id), limit)
        return [summary_from_row(row) for row in rows]

    async def rollback_summary(
        self, channel_id: int, persona_id: str | None = None
    ) -> Summary | None:
        """Delete the current version; returns the one now current, or None if none is left."""
        async with self._transaction() as conn:
            await conn.execute(
                "DELETE FROM summaries WHERE id = (SELECT id FROM summaries "
                "WHERE channel_id = $1 AND persona_id = $2 ORDER BY version DESC LIMIT 1)",
                channel_id,
                summary_key(persona_id),
            )
            row = await conn.fetchrow(_CURRENT, channel_id, summary_key(persona_id), 1)
        return None if row is None else summary_from_row(row)

    async def add_pin(self, channel_id: int, text: str, author_id: int | None) -> int:
        """Pin a fact to a channel's prompt; returns the pin id."""
        async with self._connection() as conn:
            pin_id: int = await conn.fetchval(
                "INSERT INTO pins (channel_id, text, author_id, created_at) "
                "VALUES ($1, $2, $3, $4) RETURNING id",
                channel_id,
                text,
                author_id,
                self._clock(),
            )
        return pin_id

    async def list_pins(self, channel_id: int) -> list[Pin]:
        """A channel's pins, oldest first."""
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id, channel_id, text, author_id, created_at FROM pins "
                "WHERE channel_id = $1 ORDER BY id",
                channel_id,
            )
        return [Pin(*row) for row in rows]

    async def remove_pin(self, channel_id: int, pin_id: int) -> bool:
        """Unpin a fact; False if the channel has no such pin."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "DELETE FROM pins WHERE id = $1 AND channel_id = $2 RETURNING 1",
                pin_id,
                channel_id,
            )
        return row is not None
