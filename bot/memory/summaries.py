"""Versioned rolling summaries and pinned facts of channels, and real erasure of a user's or
a channel's history.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.memory.backend import FORGOTTEN, ConflictError, Row, StoreBase
from bot.memory.errors import DatabaseFileError
from bot.memory.records import Pin, Summary

SUMMARY_COLUMNS = "id, channel_id, persona_id, text, covers_until, created_at, version, author_id"

CHANNEL_SUMMARY = ""
"""The `persona_id` stored for a channel-wide summary (the column is NOT NULL)."""


_CURRENT = f"""
SELECT {SUMMARY_COLUMNS} FROM summaries
WHERE channel_id = $1 AND persona_id = $2
ORDER BY version DESC
LIMIT $3
"""

_CURRENT_ID = (
    "SELECT id FROM summaries WHERE channel_id = $1 AND persona_id = $2 "
    "ORDER BY version DESC LIMIT 1"
)

_INSERT_SUMMARY = f"""
INSERT INTO summaries (channel_id, persona_id, version, text, covers_until, author_id, created_at)
VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM summaries
                 WHERE channel_id = $1 AND persona_id = $2),
        $3, $4, $5, $6)
RETURNING {SUMMARY_COLUMNS}
"""

# Every version, channel-wide and per persona, of the summaries of each channel where one
# covers a human message of user $1. A version covers its channel's messages up to
# `covers_until` and ids only grow, so the user's oldest message in a channel decides.
_ERASE_SUMMARIES_COVERING = """
DELETE FROM summaries WHERE channel_id IN (
    SELECT m.channel_id FROM messages AS m WHERE m.author_id = $1 AND m.kind = 'human'
    GROUP BY m.channel_id
    HAVING MIN(m.id) <= (SELECT MAX(s.covers_until) FROM summaries AS s
                         WHERE s.channel_id = m.channel_id))
RETURNING channel_id
"""

# Two processes saving the same summary at once pick the same next version; the loser of
# the unique index tries again with the one after.
_SAVE_ATTEMPTS = 5


class SummariesMixin(StoreBase):
    """Rolling summaries (per channel or per persona), pins, and erasure.

    Erasing takes the backend's erase lock, which `save_fold` takes shared, so a summary
    folded in another process either is seen (and erased) or sees the erase; then the
    backend removes the copies it can reach (see README, "Memory and privacy").
    """

    async def get_summary(self, channel_id: int, persona_id: str | None = None) -> Summary | None:
        """The current summary of a channel (or of one persona's view of it)."""
        history = await self.summary_history(channel_id, persona_id, limit=1)
        return history[0] if history else None

    async def save_summary(
        self,
        channel_id: int,
        persona_id: str | None,
        text: str,
        covers_until: int,
        author_id: int | None = None,
    ) -> Summary:
        """Store a new version of a summary; `author_id` names an admin who wrote it."""
        values = (channel_id, summary_key(persona_id), text, covers_until, author_id, self._clock())
        for _ in range(_SAVE_ATTEMPTS):
            try:
                return summary_from_row(await self._row(_INSERT_SUMMARY, *values))
            except ConflictError:
                continue
        raise DatabaseFileError(
            self._db.location, f"could not pick a version for a summary of {channel_id}"
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
        """Store a summary the model folded from stored messages, unless they were erased.

        `previous_id` is the summary version it continues (None: none), `folded` the memory
        ids it summarised. Nothing is saved (None) when that version is no longer current or
        any of `folded` is gone: it would carry what `forget_user`, `wipe_channel` or
        `rewind` erased, or overwrite a newer version. Atomic with those erases everywhere.
        """
        ids = sorted(set(folded))
        key = summary_key(persona_id)
        try:
            async with self._db.transaction() as conn:
                await self._db.lock_erasures(conn, shared=True)
                current = await conn.fetchval(_CURRENT_ID, channel_id, key)
                folded_ids, values = self._db.any_of("id", "$2", ids)
                present = await conn.fetchval(
                    f"SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND {folded_ids}",
                    channel_id,
                    values,
                )
                if current != previous_id or present != len(ids):
                    return None
                row = await conn.fetchrow(
                    _INSERT_SUMMARY, channel_id, key, text, covers_until, None, self._clock()
                )
        except ConflictError:
            return None  # another process saved a version just now: ours is stale
        assert row is not None
        return summary_from_row(row)

    async def summary_history(
        self, channel_id: int, persona_id: str | None = None, *, limit: int = 20
    ) -> list[Summary]:
        """Versions of a summary, newest first."""
        rows = await self._rows(_CURRENT, channel_id, summary_key(persona_id), limit)
        return [summary_from_row(row) for row in rows]

    async def rollback_summary(
        self, channel_id: int, persona_id: str | None = None
    ) -> Summary | None:
        """Delete the current version; returns the one now current, or None if none is left."""
        async with self._db.transaction() as conn:
            await conn.execute(
                f"DELETE FROM summaries WHERE id = ({_CURRENT_ID})",
                channel_id,
                summary_key(persona_id),
            )
            row = await conn.fetchrow(_CURRENT, channel_id, summary_key(persona_id), 1)
        return None if row is None else summary_from_row(row)

    async def add_pin(self, channel_id: int, text: str, author_id: int | None) -> int:
        """Pin a fact to a channel's prompt; returns the pin id."""
        sql = "INSERT INTO pins (channel_id, text, author_id, created_at) VALUES ($1, $2, $3, $4)"
        pin_id: int = await self._value(
            f"{sql} RETURNING id", channel_id, text, author_id, self._clock()
        )
        return pin_id

    async def list_pins(self, channel_id: int) -> list[Pin]:
        """A channel's pins, oldest first."""
        sql = "SELECT id, channel_id, text, author_id, created_at FROM pins WHERE channel_id = $1"
        return [Pin(*row) for row in await self._rows(f"{sql} ORDER BY id", channel_id)]

    async def remove_pin(self, channel_id: int, pin_id: int) -> bool:
        """Unpin a fact; False if the channel has no such pin."""
        sql = "DELETE FROM pins WHERE id = $1 AND channel_id = $2"
        return bool(await self._count(sql, pin_id, channel_id))

    # Erasure

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Erase for good a user's messages, sheets, pins and the summaries built from their
        messages, and unlink their usage.

        In each channel where a summary covers a message of the user, every version of every
        summary (hand edits included) is erased; the others' messages stay, to be folded
        anew. Other processes sharing the database hear of it on commit (`on_forgotten`).

        Returns counts by key: `messages`, `sheets` and `pins` erased; `usage` ledger rows
        unlinked; `summaries` (versions erased) and `summary_channels` (the channels they
        were in); `summary_authors`: versions the user wrote by hand that stay, unlinked.
        """
        async with self._db.transaction() as conn:
            await self._db.lock_erasures(conn)
            await self._db.notify(conn, FORGOTTEN, user_id)
            # First, while the user's messages still tell which summaries cover them.
            erased = await conn.fetch(_ERASE_SUMMARIES_COVERING, user_id)
            counts = {
                "messages": await conn.count(
                    "DELETE FROM messages WHERE author_id = $1 AND kind = 'human'", user_id
                ),
                "sheets": await conn.count("DELETE FROM player_sheets WHERE user_id = $1", user_id),
                "pins": await conn.count("DELETE FROM pins WHERE author_id = $1", user_id),
                "usage": await conn.count(
                    "UPDATE usage_ledger SET user_id = NULL WHERE user_id = $1", user_id
                ),
                "summaries": len(erased),
                "summary_channels": len({row[0] for row in erased}),
                "summary_authors": await conn.count(
                    "UPDATE summaries SET author_id = NULL WHERE author_id = $1", user_id
                ),
            }
        if any(counts.values()):
            await self._db.after_erase()
        return counts

    async def wipe_channel(self, channel_id: int) -> dict[str, int]:
        """Erase a channel's messages, summaries and pins for good; its settings stay."""
        async with self._db.transaction() as conn:
            await self._db.lock_erasures(conn)
            counts = {
                table: await conn.count(f"DELETE FROM {table} WHERE channel_id = $1", channel_id)
                for table in ("messages", "summaries", "pins")
            }
            await conn.execute(
                "UPDATE channel_cast SET joined_after = 0 WHERE channel_id = $1", channel_id
            )
        if any(counts.values()):
            await self._db.after_erase()
        return counts


def summary_key(persona_id: str | None) -> str:
    """The stored `persona_id` of a summary: the persona's, or `CHANNEL_SUMMARY`."""
    return persona_id or CHANNEL_SUMMARY


def summary_from_row(row: Row | None) -> Summary:
    """A `Summary` from a row selected with `SUMMARY_COLUMNS`."""
    assert row is not None  # an INSERT ... RETURNING row
    return Summary(row[0], row[1], row[2] or None, *row[3:])
