"""Storing messages and persona replies, with their alternatives (swipes), in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

from bot.memory.errors import DatabaseFileError, NotFoundError
from bot.memory.postgres.base import Connection, PostgresBase
from bot.memory.records import MessageRecord, NewMessage
from bot.memory.rows import (
    MESSAGE_COLUMNS,
    discord_part_values,
    find_by_discord_id,
    message_from_row,
    new_message_values,
    require_finished,
    split_discord_ids,
    with_discord_ids,
)
from bot.models import AuthorKind, ReplyStatus

_INSERT_MESSAGE = f"""
INSERT INTO messages (channel_id, guild_id, discord_id, author_id, author_name, kind,
                      persona_id, text, reply_to, created_at, ooc, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {find_by_discord_id("$9")}, $10, $11, 'complete')
ON CONFLICT (discord_id) DO NOTHING
RETURNING {MESSAGE_COLUMNS}
"""

_INSERT_REPLY = """
INSERT INTO messages (channel_id, guild_id, author_name, kind, persona_id, text, reply_to,
                      created_at, status)
VALUES ($1, $2, $3, 'persona', $4, '', (SELECT id FROM messages WHERE id = $5), $6, 'streaming')
RETURNING id
"""

# FOR UPDATE: a reply's alternatives change one caller at a time, across processes too.
_LOCK_REPLY = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 FOR UPDATE"

_UPDATE_SHOWN = f"""
UPDATE messages SET text = $1, status = $2 WHERE id = $3 AND kind = 'persona'
RETURNING {MESSAGE_COLUMNS}
"""

_UPDATE_SWIPE = "UPDATE swipes SET text = $1, status = $2 WHERE message_id = $3 AND idx = $4"

# Another process may delete the row between a conflicting insert and the read that follows.
_ADD_ATTEMPTS = 3


class MessagesMixin(PostgresBase):
    """Adding messages and replies."""

    async def add_message(self, message: NewMessage) -> MessageRecord:
        """Store a message the bot saw; a Discord id already stored returns the existing row."""
        values = new_message_values(message, self._clock)
        async with self._connection() as conn:
            for _ in range(_ADD_ATTEMPTS):
                row = await conn.fetchrow(_INSERT_MESSAGE, *values)
                if row is None:
                    row = await conn.fetchrow(
                        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE discord_id = $1",
                        message.discord_id,
                    )
                if row is not None:
                    return message_from_row(row)
        raise DatabaseFileError(
            self._target.display, f"Discord message {message.discord_id} kept vanishing"
        )

    async def begin_reply(
        self,
        channel_id: int,
        guild_id: int | None,
        persona_id: str,
        author_name: str,
        reply_to: int | None = None,
    ) -> int:
        """Store an empty persona reply in status streaming; returns its memory id."""
        async with self._connection() as conn:
            reply_id: int = await conn.fetchval(
                _INSERT_REPLY,
                channel_id,
                guild_id,
                author_name,
                persona_id,
                reply_to,
                self._clock(),
            )
        return reply_id

    async def save_progress(
        self, reply_id: int, text: str, discord_ids: Sequence[int] | None = None
    ) -> None:
        """Keep the text streamed so far (and the Discord messages showing it) of a reply."""
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE messages SET text = $1 WHERE id = $2 AND kind = 'persona' "
                "RETURNING swipe_index, swipe_count, status",
                text,
                reply_id,
            )
            if row is None:
                raise NotFoundError(f"no reply with id {reply_id}")
            if row[1] > 1:
                await conn.execute(_UPDATE_SWIPE, text, row[2], reply_id, row[0])
            if discord_ids is not None:
                await _replace_discord_ids(conn, reply_id, discord_ids)

    async def finish_reply(
        self,
        reply_id: int,
        text: str,
        status: ReplyStatus,
        discord_ids: Sequence[int] | None = None,
    ) -> MessageRecord:
        """Store the final text and status of the alternative on show."""
        require_finished(status)
        async with self._transaction() as conn:
            row = await conn.fetchrow(_UPDATE_SHOWN, text, status.value, reply_id)
            if row is None:
                raise NotFoundError(f"no reply with id {reply_id}")
            record = message_from_row(row)
            if record.swipe_count > 1:
                await conn.execute(_UPDATE_SWIPE, text, status.value, reply_id, record.swipe_index)
            if discord_ids is not None:
                await _replace_discord_ids(conn, reply_id, discord_ids)
                record = with_discord_ids(record, discord_ids)
        return record

    async def add_alternative(
        self, reply_id: int, text: str = "", status: ReplyStatus = ReplyStatus.STREAMING
    ) -> MessageRecord:
        """Add a new alternative (swipe) to a reply; it becomes the one on show."""
        async with self._transaction() as conn:
            row = await conn.fetchrow(_LOCK_REPLY, reply_id)
            if row is None or row[6] != AuthorKind.PERSONA.value:
                raise NotFoundError(f"no reply with id {reply_id}")
            count = message_from_row(row).swipe_count
            if count == 1:
                # Alternatives live in `swipes` only once there are two; move the first in.
                await conn.execute(
                    "INSERT INTO swipes (message_id, idx, text, status, created_at) "
                    "SELECT id, 0, text, status, created_at FROM messages WHERE id = $1",
                    reply_id,
                )
            await conn.execute(
                "INSERT INTO swipes (message_id, idx, text, status, created_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                reply_id,
                count,
                text,
                status.value,
                self._clock(),
            )
            row = await conn.fetchrow(
                "UPDATE messages SET text = $1, status = $2, swipe_index = $3, swipe_count = $4 "
                f"WHERE id = $5 RETURNING {MESSAGE_COLUMNS}",
                text,
                status.value,
                count,
                count + 1,
                reply_id,
            )
        return message_from_row(row)

    async def select_alternative(self, reply_id: int, index: int) -> MessageRecord:
        """Show another stored alternative of a reply."""
        async with self._transaction() as conn:
            row = await conn.fetchrow(_LOCK_REPLY, reply_id)
            if row is None or row[6] != AuthorKind.PERSONA.value:
                raise NotFoundError(f"no reply with id {reply_id}")
            record = message_from_row(row)
            if not 0 <= index < record.swipe_count:
                raise IndexError(f"reply {reply_id} has {record.swipe_count} alternatives")
            if index == record.swipe_index:
                return record
            swipe = await conn.fetchrow(
                "SELECT text, status FROM swipes WHERE message_id = $1 AND idx = $2",
                reply_id,
                index,
            )
            row = await conn.fetchrow(
                "UPDATE messages SET text = $1, status = $2, swipe_index = $3 "
                f"WHERE id = $4 RETURNING {MESSAGE_COLUMNS}",
                swipe[0],
                swipe[1],
                index,
                reply_id,
            )
        return message_from_row(row)

    async def set_discord_ids(self, reply_id: int, discord_ids: Sequence[int]) -> None:
        """Record which Discord messages now show a reply, first one first."""
        async with self._transaction() as conn:
            found = await conn.fetchval("SELECT 1 FROM messages WHERE id = $1", reply_id)
            if found is None:
                raise NotFoundError(f"no message with id {reply_id}")
            await _replace_discord_ids(conn, reply_id, discord_ids)


async def _replace_discord_ids(
    conn: Connection, message_id: int, discord_ids: Sequence[int]
) -> None:
    first, more = split_discord_ids(discord_ids)
    await conn.execute(
        "UPDATE messages SET discord_id = $1, more_discord_ids = $2 WHERE id = $3",
        first,
        more,
        message_id,
    )
    await conn.execute("DELETE FROM discord_parts WHERE message_id = $1", message_id)
    if len(discord_ids) > 1:
        await conn.executemany(
            "INSERT INTO discord_parts (discord_id, message_id) VALUES ($1, $2)",
            discord_part_values(message_id, discord_ids),
        )
