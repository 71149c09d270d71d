"""Real deletion in PostgreSQL: forgetting a user, wiping a channel."""

from __future__ import annotations

from bot.memory.postgres.base import LOCK_FOR_ERASE, Connection, PostgresBase
from bot.memory.postgres.events import NOTIFY_FORGOTTEN
from bot.memory.rows import erase_summaries_covering


async def _count(conn: Connection, statement: str, key: int) -> int:
    counted: int = await conn.fetchval(
        f"WITH changed AS ({statement} RETURNING 1) SELECT COUNT(*) FROM changed", key
    )
    return counted


class PrivacyMixin(PostgresBase):
    """Erasing what is stored about a user or a channel.

    The rows go in one transaction and no query can see them afterwards. Unlike the SQLite
    store, nothing rewrites the data files: PostgreSQL frees the space of deleted rows
    through (auto)vacuum, and the old bytes linger in data pages, the WAL, replicas and
    backups until overwritten or rotated. Scrubbing those takes `VACUUM FULL`, which locks
    every process sharing the database out of the tables; that, and how long WAL archives
    and backups are kept, is left to the operator.

    Each erase first takes an advisory lock that `save_fold` shares, so a summary folded in
    another process either is seen (and erased) here or sees the erase. Forgetting a user
    also notifies the other processes on commit (see `bot.memory.postgres.events`), so they
    drop the user's lines and sheets from their caches.
    """

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Erase for good a user's messages, sheets, pins and the summaries built from their
        messages, and unlink their usage (see `Store.forget_user` for the counts).
        """
        async with self._transaction() as conn:
            await conn.execute(LOCK_FOR_ERASE)
            # Delivered to the other processes when (and only if) the erase commits.
            await conn.execute(NOTIFY_FORGOTTEN, user_id, self._sender)
            # First, while the user's messages still tell which summaries cover them.
            erased = await conn.fetchrow(
                f"WITH gone AS ({erase_summaries_covering('$1')}) "
                "SELECT COUNT(*), COUNT(DISTINCT channel_id) FROM gone",
                user_id,
            )
            return {
                "messages": await _count(
                    conn, "DELETE FROM messages WHERE author_id = $1 AND kind = 'human'", user_id
                ),
                "sheets": await _count(
                    conn, "DELETE FROM player_sheets WHERE user_id = $1", user_id
                ),
                "pins": await _count(conn, "DELETE FROM pins WHERE author_id = $1", user_id),
                "usage": await _count(
                    conn, "UPDATE usage_ledger SET user_id = NULL WHERE user_id = $1", user_id
                ),
                "summaries": erased[0],
                "summary_channels": erased[1],
                "summary_authors": await _count(
                    conn, "UPDATE summaries SET author_id = NULL WHERE author_id = $1", user_id
                ),
            }

    async def wipe_channel(self, channel_id: int) -> dict[str, int]:
        """Erase a channel's messages, summaries and pins for good; its settings stay."""
        async with self._transaction() as conn:
            await conn.execute(LOCK_FOR_ERASE)
            counts = {
                "messages": await _count(
                    conn, "DELETE FROM messages WHERE channel_id = $1", channel_id
                ),
                "summaries": await _count(
                    conn, "DELETE FROM summaries WHERE channel_id = $1", channel_id
                ),
                "pins": await _count(conn, "DELETE FROM pins WHERE channel_id = $1", channel_id),
            }
            await conn.execute(
                "UPDATE channel_cast SET joined_after = 0 WHERE channel_id = $1", channel_id
            )
        return counts
