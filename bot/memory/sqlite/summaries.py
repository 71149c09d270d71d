"""Versioned rolling summaries and pinned facts of channels, in SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.memory.records import Pin, Summary
from bot.memory.rows import SUMMARY_COLUMNS, summary_from_row, summary_key
from bot.memory.sqlite.base import SqliteBase

_CURRENT = f"""
SELECT {SUMMARY_COLUMNS} FROM summaries
WHERE channel_id = ? AND persona_id = ?
ORDER BY version DESC
LIMIT ?
"""

_INSERT_SUMMARY = f"""
INSERT INTO summaries (channel_id, persona_id, version, text, covers_until, author_id, created_at)
VALUES (:channel, :persona, (SELECT COALESCE(MAX(version), 0) + 1 FROM summaries
                             WHERE channel_id = :channel AND persona_id = :persona),
        :text, :covers_until, :author, :now)
RETURNING {SUMMARY_COLUMNS}
"""


class SummariesMixin(SqliteBase):
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
        params = {
            "channel": channel_id,
            "persona": summary_key(persona_id),
            "text": text,
            "covers_until": covers_until,
            "author": author_id,
            "now": self._clock(),
        }
        async with self._locked() as sql:
            row = await sql.fetchone(_INSERT_SUMMARY, params)
        assert row is not None
        return summary_from_row(row)

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
        params = {
            "channel": channel_id,
            "persona": summary_key(persona_id),
            "text": text,
            "covers_until": covers_until,
            "author": None,
            "now": self._clock(),
        }
        async with self._transaction() as sql:
            current = await sql.scalar(
                "SELECT id FROM summaries WHERE channel_id = ? AND persona_id = ? "
                "ORDER BY version DESC LIMIT 1",
                (channel_id, summary_key(persona_id)),
            )
            present = await sql.scalar(
                "SELECT COUNT(*) FROM messages WHERE channel_id = ? "
                "AND id IN (SELECT value FROM json_each(?))",
                (channel_id, json.dumps(ids)),
            )
            if current != previous_id or present != len(ids):
                return None
            row = await sql.fetchone(_INSERT_SUMMARY, params)
        assert row is not None
        return summary_from_row(row)

    async def summary_history(
        self, channel_id: int, persona_id: str | None = None, *, limit: int = 20
    ) -> list[Summary]:
        """Versions of a summary, newest first."""
        async with self._locked() as sql:
            rows = await sql.fetchall(_CURRENT, (channel_id, summary_key(persona_id), limit))
        return [summary_from_row(row) for row in rows]

    async def rollback_summary(
        self, channel_id: int, persona_id: str | None = None
    ) -> Summary | None:
        """Delete the current version; returns the one now current, or None if none is left."""
        async with self._transaction() as sql:
            await sql.execute(
                "DELETE FROM summaries WHERE id = (SELECT id FROM summaries "
                "WHERE channel_id = ? AND persona_id = ? ORDER BY version DESC LIMIT 1)",
                (channel_id, summary_key(persona_id)),
            )
            row = await sql.fetchone(_CURRENT, (channel_id, summary_key(persona_id), 1))
        return None if row is None else summary_from_row(row)

    async def add_pin(self, channel_id: int, text: str, author_id: int | None) -> int:
        """Pin a fact to a channel's prompt; returns the pin id."""
        async with self._locked() as sql:
            pin_id: int = await sql.scalar(
                "INSERT INTO pins (channel_id, text, author_id, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (channel_id, text, author_id, self._clock()),
            )
        return pin_id

    async def list_pins(self, channel_id: int) -> list[Pin]:
        """A channel's pins, oldest first."""
        async with self._locked() as sql:
            rows = await sql.fetchall(
                "SELECT id, channel_id, text, author_id, created_at FROM pins "
                "WHERE channel_id = ? ORDER BY id",
                (channel_id,),
            )
        return [Pin(*row) for row in rows]

    async def remove_pin(self, channel_id: int, pin_id: int) -> bool:
        """Unpin a fact; False if the channel has no such pin."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                "DELETE FROM pins WHERE id = ? AND channel_id = ? RETURNING 1",
                (pin_id, channel_id),
            )
        return row is not None
