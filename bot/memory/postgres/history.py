"""Reading channel history from PostgreSQL, and following Discord edits, deletions, rewinds."""

from __future__ import annotations

from collections.abc import Collection

from bot.memory.errors import NotFoundError
from bot.memory.postgres.base import LOCK_FOR_ERASE, PostgresBase
from bot.memory.records import MessageRecord
from bot.memory.rows import MESSAGE_COLUMNS, find_by_discord_id, message_from_row

# Both walk the (channel_id, id) index from one end and stop after `limit` rows, so their
# cost depends on the window, never on how much history the channel has.
WINDOW_SQL = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE channel_id = $1 AND id > $2
ORDER BY id DESC
LIMIT $3
"""

AFTER_SQL = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE channel_id = $1 AND id > $2
ORDER BY id
LIMIT $3
"""


class HistoryMixin(PostgresBase):
    """Reading, editing and deleting stored messages."""

    async def get_message(self, message_id: int) -> MessageRecord | None:
        """A stored message by memory id."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1", message_id
            )
        return None if row is None else message_from_row(row)

    async def unfinished_replies(
        self, channel_ids: Collection[int] | None = None
    ) -> list[MessageRecord]:
        """Replies still streaming (a crash may have left them so), oldest first."""
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE status = 'streaming' ORDER BY id"
            )
        records = [message_from_row(row) for row in rows]
        if channel_ids is None:
            return records
        wanted = set(channel_ids)
        return [r for r in records if r.channel_id in wanted]

    async def get_by_discord_id(self, discord_id: int) -> MessageRecord | None:
        """The stored message a Discord message belongs to (any part of a long reply)."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = {find_by_discord_id('$1')}",
                discord_id,
            )
        return None if row is None else message_from_row(row)

    async def find_reply(self, reply_to: int, persona_id: str) -> MessageRecord | None:
        """A persona's first reply to a message, to avoid answering it twice."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {MESSAGE_COLUMNS} FROM messages "
                "WHERE reply_to = $1 AND persona_id = $2 ORDER BY id LIMIT 1",
                reply_to,
                persona_id,
            )
        return None if row is None else message_from_row(row)

    async def window(
        self, channel_id: int, *, limit: int, after_id: int | None = None
    ) -> list[MessageRecord]:
        """The newest `limit` messages with id above `after_id`, oldest first; O(limit)."""
        if limit <= 0:
            return []
        async with self._connection() as conn:
            rows = await conn.fetch(WINDOW_SQL, channel_id, after_id or 0, limit)
        return [message_from_row(row) for row in reversed(rows)]

    async def messages_after(
        self, channel_id: int, after_id: int | None, *, limit: int
    ) -> list[MessageRecord]:
        """The oldest `limit` messages with id above `after_id`, oldest first (to summarise)."""
        if limit <= 0:
            return []
        async with self._connection() as conn:
            rows = await conn.fetch(AFTER_SQL, channel_id, after_id or 0, limit)
        return [message_from_row(row) for row in rows]

    async def latest_id(self, channel_id: int) -> int | None:
        """The newest message id of a channel, or None if it has none."""
        async with self._connection() as conn:
            latest: int | None = await conn.fetchval(
                "SELECT MAX(id) FROM messages WHERE channel_id = $1", channel_id
            )
        return latest

    async def count_messages(self, channel_id: int) -> int:
        """How many messages a channel has stored."""
        async with self._connection() as conn:
            count: int = await conn.fetchval(
                "SELECT COUNT(*) FROM messages WHERE channel_id = $1", channel_id
            )
        return count

    async def edit_message(self, discord_id: int, text: str) -> bool:
        """Replace a message's text and mark it edited; False if unknown or unchanged."""
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE messages SET text = $1, edited_at = $2 "
                f"WHERE id = {find_by_discord_id('$3')} AND text <> $1 "
                "RETURNING id, swipe_index, swipe_count",
                text,
                self._clock(),
                discord_id,
            )
            if row is not None and row[2] > 1:
                await conn.execute(
                    "UPDATE swipes SET text = $1 WHERE message_id = $2 AND idx = $3",
                    text,
                    row[0],
                    row[1],
                )
        return row is not None

    async def delete_message(self, discord_id: int) -> bool:
        """Forget the message a Discord message belongs to; False if unknown."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"DELETE FROM messages WHERE id = {find_by_discord_id('$1')} RETURNING id",
                discord_id,
            )
        return row is not None

    async def rewind(self, channel_id: int, after_discord_id: int) -> int:
        """Forget every message after a Discord message, and summaries covering them."""
        async with self._transaction() as conn:
            await conn.execute(LOCK_FOR_ERASE)
            keep_until = await conn.fetchval(
                f"SELECT id FROM messages WHERE id = {find_by_discord_id('$1')} "
                "AND channel_id = $2",
                after_discord_id,
                channel_id,
            )
            if keep_until is None:
                raise NotFoundError(
                    f"Discord message {after_discord_id} is not stored in channel {channel_id}"
                )
            deleted: int = await conn.fetchval(
                "WITH gone AS (DELETE FROM messages WHERE channel_id = $1 AND id > $2 RETURNING 1) "
                "SELECT COUNT(*) FROM gone",
                channel_id,
                keep_until,
            )
            await conn.execute(
                "DELETE FROM summaries WHERE channel_id = $1 AND covers_until > $2",
                channel_id,
                keep_until,
            )
        return deleted
