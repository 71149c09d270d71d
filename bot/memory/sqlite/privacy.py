"""Real deletion in SQLite: forgetting a user, wiping a channel, leaving no copy behind."""

from __future__ import annotations

import logging

from bot.memory.rows import erase_summaries_covering
from bot.memory.sqlite.base import SqliteBase

log = logging.getLogger(__name__)


class PrivacyMixin(SqliteBase):
    """Erasing what is stored about a user or a channel.

    Deleting rows is not enough to get text out of the file: `secure_delete` zeroes deleted
    cells, but B-tree pages also keep stale copies of rows in their unused space, and the
    write-ahead log keeps older versions of pages. So each erase ends with a VACUUM, which
    rewrites the file from the live rows only, and a checkpoint that empties the WAL. Both
    take time in proportion to the file (about 2.5 s for 1,000,000 messages), which is fine
    for these rare requests; they are skipped when nothing was erased.
    """

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Erase for good a user's messages, sheets, pins and the summaries built from their
        messages, and unlink their usage (see `Store.forget_user` for the counts).
        """
        async with self._transaction() as sql:
            # First, while the user's messages still tell which summaries cover them.
            erased = await sql.fetchall(erase_summaries_covering("?"), (user_id,))
            messages = await sql.fetchall(
                "DELETE FROM messages WHERE author_id = ? AND kind = 'human' RETURNING 1",
                (user_id,),
            )
            sheets = await sql.fetchall(
                "DELETE FROM player_sheets WHERE user_id = ? RETURNING 1", (user_id,)
            )
            pins = await sql.fetchall(
                "DELETE FROM pins WHERE author_id = ? RETURNING 1", (user_id,)
            )
            usage = await sql.fetchall(
                "UPDATE usage_ledger SET user_id = NULL WHERE user_id = ? RETURNING 1", (user_id,)
            )
            authored = await sql.fetchall(
                "UPDATE summaries SET author_id = NULL WHERE author_id = ? RETURNING 1", (user_id,)
            )
        counts = {
            "messages": len(messages),
            "sheets": len(sheets),
            "pins": len(pins),
            "usage": len(usage),
            "summaries": len(erased),
            "summary_channels": len({row[0] for row in erased}),
            "summary_authors": len(authored),
        }
        if any(counts.values()):
            await self._erase_leftovers()
        return counts

    async def wipe_channel(self, channel_id: int) -> dict[str, int]:
        """Erase a channel's messages, summaries and pins for good; its settings stay."""
        async with self._transaction() as sql:
            messages = await sql.fetchall(
                "DELETE FROM messages WHERE channel_id = ? RETURNING 1", (channel_id,)
            )
            summaries = await sql.fetchall(
                "DELETE FROM summaries WHERE channel_id = ? RETURNING 1", (channel_id,)
            )
            pins = await sql.fetchall(
                "DELETE FROM pins WHERE channel_id = ? RETURNING 1", (channel_id,)
            )
            await sql.execute(
                "UPDATE channel_cast SET joined_after = 0 WHERE channel_id = ?", (channel_id,)
            )
        counts = {"messages": len(messages), "summaries": len(summaries), "pins": len(pins)}
        if any(counts.values()):
            await self._erase_leftovers()
        return counts

    async def _erase_leftovers(self) -> None:
        async with self._locked() as sql:
            await sql.execute("VACUUM")
            row = await sql.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")
        if row is not None and row[0]:
            log.warning("%s: WAL checkpoint was blocked; erased data may linger", self._path)
