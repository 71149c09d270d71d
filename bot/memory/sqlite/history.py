"""Reading channel history from SQLite, and following Discord edits, deletions and rewinds."""

from __future__ import annotations

from collections.abc import Collection

from bot.memory.errors import NotFoundError
from bot.memory.records import MessageRecord
from bot.memory.rows import MESSAGE_COLUMNS, find_by_discord_id, message_from_row
from bot.memory.sqlite.base import SqliteBase

_FIND_BY_DISCORD_ID = find_by_discord_id(":discord_id")

# Both walk the (channel_id, id) index from one end and stop after `limit` rows, so their
# cost depends on the window, never on how much history the channel has.
WINDOW_SQL = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE channel_id = ? AND id > ?
ORDER BY id DESC
LIMIT ?
"""

AFTER_SQL = f"""
SELECT {MESSAGE_COLUMNS} FROM messages
WHERE channel_id = ? AND id > ?
ORDER BY id
LIMIT ?
"""


class HistoryMixin(SqliteBase):
    """Reading, editing and deleting stored messages."""

    async def get_message(self, message_id: int) -> MessageRecord | None:
        """A stored message by memory id."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            )
        return None if row is None else message_from_row(row)

    async def unfinished_replies(
        self, channel_ids: Collection[int] | None = None
    ) -> list[MessageRecord]:
        """Replies still streaming (a crash left them so), oldest first."""
        async with self._locked() as sql:
            rows = await sql.fetchall(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE status = 'streaming' ORDER BY id"
            )
        records = [message_from_row(row) for row in rows]
        if channel_ids is None:
            return records
        wanted = set(channel_ids)
        return [r for r in records if r.channel_id in wanted]

    async def get_by_discord_id(self, discord_id: int) -> MessageRecord | None:
        """The stored message a Discord message belongs to (any part of a long reply)."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = {_FIND_BY_DISCORD_ID}",
                {"discord_id": discord_id},
            )
        return None if row is None else message_from_row(row)

    async def find_reply(self, reply_to: int, persona_id: str) -> MessageRecord | None:
        """A persona's first reply to a message, to avoid answering it twice."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                f"SELECT {MESSAGE_COLUMNS} FROM messages "
                "WHERE reply_to = ? AND persona_id = ? ORDER BY id LIMIT 1",
                (reply_to, persona_id),
            )
        return None if row is None else message_from_row(row)

    async def window(
        self, channel_id: int, *, limit: int, after_id: int | None = None
    ) -> list[MessageRecord]:
        """The newest `limit` messages with id above `after_id`, oldest first; O(limit)."""
        if limit <= 0:
            return []
        async with self._locked() as sql:
            rows = await sql.fetchall(WINDOW_SQL, (channel_id, after_id or 0, limit))
        rows.reverse()
        return [message_from_row(row) for row in rows]

    async def messages_after(
        self, channel_id: int, after_id: int | None, *, limit: int
    ) -> list[MessageRecord]:
        """The oldest `limit` messages with id above `after_id`, oldest first (to summarise)."""
        if limit <= 0:
            return []
        async with self._locked() as sql:
            rows = await sql.fetchall(AFTER_SQL, (channel_id, after_id or 0, limit))
        return [message_from_row(row) for row in rows]

    async def latest_id(self, channel_id: int) -> int | None:
        """The newest message id of a channel, or None if it has none."""
        async with self._locked() as sql:
            latest: int | None = await sql.scalar(
                "SELECT MAX(id) FROM messages WHERE channel_id = ?", (channel_id,)
            )
        return latest

    async def count_messages(self, channel_id: int) -> int:
        """How many messages a channel has stored."""
        async with self._locked() as sql:
            count: int = await sql.scalar(
                "SELECT COUNT(*) FROM messages WHERE channel_id = ?", (channel_id,)
            )
        return count

    async def edit_message(self, discord_id: int, text: str) -> bool:
        """Replace a message's text and mark it edited; False if unknown or unchanged."""
        async with self._transaction() as sql:
            row = await sql.fetchone(
                "UPDATE messages SET text = :text, edited_at = :now "
                f"WHERE id = {_FIND_BY_DISCORD_ID} AND text <> :text "
                "RETURNING id, swipe_index, swipe_count",
                {"text": text, "now": self._clock(), "discord_id": discord_id},
            )
            if row is not None and row[2] > 1:
                await sql.execute(
                    "UPDATE swipes SET text = ? WHERE message_id = ? AND idx = ?",
                    (text, row[0], row[1]),
                )
        return row is not None

    async def delete_message(self, discord_id: int) -> bool:
        """Forget the message a Discord message belongs to; False if unknown."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                f"DELETE FROM messages WHERE id = {_FIND_BY_DISCORD_ID} RETURNING id",
                {"discord_id": discord_id},
            )
        return row is not None

    async def rewind(self, channel_id: int, after_discord_id: int) -> int:
        """Forget every message after a Discord message, and summaries covering them."""
        async with self._transaction() as sql:
            keep_until = await sql.scalar(
                f"SELECT id FROM messages WHERE id = {_FIND_BY_DISCORD_ID} "
                "AND channel_id = :channel",
                {"discord_id": after_discord_id, "channel": channel_id},
            )
            if keep_until is None:
                raise NotFoundError(
                    f"Discord message {after_discord_id} is not stored in channel {channel_id}"
                )
            deleted = await sql.fetchall(
                "DELETE FROM messages WHERE channel_id = ? AND id > ? RETURNING 1",
                (channel_id, keep_until),
            )
            await sql.execute(
                "DELETE FROM summaries WHERE channel_id = ? AND covers_until > ?",
                (channel_id, keep_until),
            )
        return len(deleted)
