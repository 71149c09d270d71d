"""Channel history: messages, persona replies with their alternatives (swipes), and reading,
editing, deleting and rewinding them as Discord does.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from bot.memory.backend import Connection, Row, StoreBase
from bot.memory.errors import DatabaseFileError, NotFoundError
from bot.memory.records import MessageRecord, NewMessage
from bot.models import AuthorKind, ReplyStatus

MESSAGE_COLUMNS = (
    "id, channel_id, guild_id, discord_id, author_id, author_name, kind, persona_id, text, "
    "reply_to, created_at, edited_at, ooc, status, swipe_index, swipe_count, more_discord_ids"
)

_KINDS = {kind.value: kind for kind in AuthorKind}
_STATUSES = {status.value: status for status in ReplyStatus}


def find_by_discord_id(parameter: str) -> str:
    """A scalar subquery: the memory id the Discord message `parameter` belongs to."""
    return (
        f"(SELECT id FROM messages WHERE discord_id = {parameter} "
        f"UNION ALL SELECT message_id FROM discord_parts WHERE discord_id = {parameter} LIMIT 1)"
    )


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

_SELECT = f"SELECT {MESSAGE_COLUMNS} FROM messages"

_UPDATE_SWIPE = "UPDATE swipes SET text = $1, status = $2 WHERE message_id = $3 AND idx = $4"

# Both walk the (channel_id, id) index from one end and stop after `limit` rows, so their
# cost depends on the window, never on how much history the channel has.
WINDOW_SQL = f"{_SELECT} WHERE channel_id = $1 AND id > $2 ORDER BY id DESC LIMIT $3"
AFTER_SQL = f"{_SELECT} WHERE channel_id = $1 AND id > $2 ORDER BY id LIMIT $3"

# Another process may delete the row between a conflicting insert and the read that follows.
_ADD_ATTEMPTS = 3


class MessagesMixin(StoreBase):
    """Adding messages and replies, and reading and changing history."""

    async def add_message(self, message: NewMessage) -> MessageRecord:
        """Store a message the bot saw; a Discord id already stored returns the existing row."""
        created = self._clock() if message.created_at is None else message.created_at
        async with self._db.connection() as conn:
            for _ in range(_ADD_ATTEMPTS):
                added = await conn.fetchrow(
                    _INSERT_MESSAGE,
                    message.channel_id, message.guild_id, message.discord_id, message.author_id,
                    message.author_name, message.kind.value, message.persona_id, message.text,
                    message.reply_to_discord_id, created, message.ooc,
                )  # fmt: skip
                if added is not None:
                    break
                row = await conn.fetchrow(f"{_SELECT} WHERE discord_id = $1", message.discord_id)
                if row is not None:
                    return message_from_row(row)
            else:
                raise DatabaseFileError(
                    self._db.location, f"Discord message {message.discord_id} kept vanishing"
                )
        await self._db.message_added()
        return message_from_row(added)

    async def begin_reply(
        self,
        channel_id: int,
        guild_id: int | None,
        persona_id: str,
        author_name: str,
        reply_to: int | None = None,
    ) -> int:
        """Store an empty persona reply in status streaming; returns its memory id."""
        now = self._clock()
        reply_id: int = await self._value(
            _INSERT_REPLY, channel_id, guild_id, author_name, persona_id, reply_to, now
        )
        return reply_id

    async def save_progress(
        self, reply_id: int, text: str, discord_ids: Sequence[int] | None = None
    ) -> None:
        """Keep the text streamed so far (and the Discord messages showing it) of a reply.

        Raises:
            NotFoundError: no such reply.

        """
        async with self._db.transaction() as conn:
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
        """Store the final text and status (complete, interrupted or failed) of the
        alternative on show.

        Raises:
            NotFoundError: no such reply.
            ValueError: `status` is STREAMING.

        """
        if status is ReplyStatus.STREAMING:
            raise ValueError("a finished reply is complete, interrupted or failed, not streaming")
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE messages SET text = $1, status = $2 WHERE id = $3 AND kind = 'persona' "
                f"RETURNING {MESSAGE_COLUMNS}",
                text, status.value, reply_id,
            )  # fmt: skip
            if row is None:
                raise NotFoundError(f"no reply with id {reply_id}")
            record = message_from_row(row)
            if record.swipe_count > 1:
                await conn.execute(_UPDATE_SWIPE, text, status.value, reply_id, record.swipe_index)
            if discord_ids is not None:
                await _replace_discord_ids(conn, reply_id, discord_ids)
                first = discord_ids[0] if discord_ids else None
                record = replace(record, discord_id=first, discord_ids=tuple(discord_ids))
        return record

    async def add_alternative(
        self, reply_id: int, text: str = "", status: ReplyStatus = ReplyStatus.STREAMING
    ) -> MessageRecord:
        """Add a new alternative (swipe) to a reply; it becomes the one on show.

        Raises:
            NotFoundError: no such reply.

        """
        async with self._db.transaction() as conn:
            count = (await _locked_reply(conn, reply_id, self._db.for_update)).swipe_count
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
                reply_id, count, text, status.value, self._clock(),
            )  # fmt: skip
            row = await conn.fetchrow(
                "UPDATE messages SET text = $1, status = $2, swipe_index = $3, swipe_count = $4 "
                f"WHERE id = $5 RETURNING {MESSAGE_COLUMNS}",
                text, status.value, count, count + 1, reply_id,
            )  # fmt: skip
        assert row is not None  # the reply's row is locked: it is still there
        return message_from_row(row)

    async def select_alternative(self, reply_id: int, index: int) -> MessageRecord:
        """Show another stored alternative of a reply.

        Raises:
            NotFoundError: no such reply.
            IndexError: the reply has no alternative `index`.

        """
        async with self._db.transaction() as conn:
            record = await _locked_reply(conn, reply_id, self._db.for_update)
            if not 0 <= index < record.swipe_count:
                raise IndexError(f"reply {reply_id} has {record.swipe_count} alternatives")
            if index == record.swipe_index:
                return record
            row = await conn.fetchrow(
                "UPDATE messages SET text = s.shown, status = s.shown_status, swipe_index = $2 "
                "FROM (SELECT text AS shown, status AS shown_status FROM swipes "
                "WHERE message_id = $1 AND idx = $2) AS s "
                f"WHERE id = $1 RETURNING {MESSAGE_COLUMNS}",
                reply_id,
                index,
            )
        assert row is not None  # swipe_count > 1 guarantees swipes 0..count-1
        return message_from_row(row)

    async def set_discord_ids(self, reply_id: int, discord_ids: Sequence[int]) -> None:
        """Record which Discord messages now show a reply, first one first.

        Raises:
            NotFoundError: no such reply.

        """
        async with self._db.transaction() as conn:
            if await conn.fetchval("SELECT 1 FROM messages WHERE id = $1", reply_id) is None:
                raise NotFoundError(f"no message with id {reply_id}")
            await _replace_discord_ids(conn, reply_id, discord_ids)

    async def unfinished_replies(
        self, channel_ids: Collection[int] | None = None
    ) -> list[MessageRecord]:
        """Every reply still streaming (in `channel_ids`, or anywhere), oldest first, with
        the text and Discord ids `save_progress` last kept. Opening a store leaves those a
        crash cut short: the runtime fixes their Discord messages, then calls `finish_reply`
        (INTERRUPTED). On a shared database, other processes' live replies are listed too.
        """
        if channel_ids is None:
            rows = await self._rows(f"{_SELECT} WHERE status = 'streaming' ORDER BY id")
        else:
            channels, ids = self._db.any_of("channel_id", "$1", sorted(channel_ids))
            sql = f"{_SELECT} WHERE status = 'streaming' AND {channels} ORDER BY id"
            rows = await self._rows(sql, ids)
        return [message_from_row(row) for row in rows]

    async def get_message(self, message_id: int) -> MessageRecord | None:
        """A stored message by memory id."""
        row = await self._row(f"{_SELECT} WHERE id = $1", message_id)
        return None if row is None else message_from_row(row)

    async def get_by_discord_id(self, discord_id: int) -> MessageRecord | None:
        """The stored message a Discord message belongs to (any part of a long reply)."""
        row = await self._row(f"{_SELECT} WHERE id = {find_by_discord_id('$1')}", discord_id)
        return None if row is None else message_from_row(row)

    async def find_reply(self, reply_to: int, persona_id: str) -> MessageRecord | None:
        """A persona's first reply to a message, to avoid answering it twice."""
        where = "reply_to = $1 AND persona_id = $2"
        row = await self._row(f"{_SELECT} WHERE {where} ORDER BY id LIMIT 1", reply_to, persona_id)
        return None if row is None else message_from_row(row)

    async def window(
        self, channel_id: int, *, limit: int, after_id: int | None = None
    ) -> list[MessageRecord]:
        """The newest `limit` messages with id above `after_id`, oldest first; O(limit)."""
        if limit <= 0:
            return []
        rows = await self._rows(WINDOW_SQL, channel_id, after_id or 0, limit)
        return [message_from_row(row) for row in reversed(rows)]

    async def messages_after(
        self, channel_id: int, after_id: int | None, *, limit: int
    ) -> list[MessageRecord]:
        """The oldest `limit` messages with id above `after_id`, oldest first (to summarise)."""
        if limit <= 0:
            return []
        rows = await self._rows(AFTER_SQL, channel_id, after_id or 0, limit)
        return [message_from_row(row) for row in rows]

    async def latest_id(self, channel_id: int) -> int | None:
        """The newest message id of a channel, or None if it has none."""
        latest: int | None = await self._value(
            "SELECT MAX(id) FROM messages WHERE channel_id = $1", channel_id
        )
        return latest

    async def count_messages(self, channel_id: int) -> int:
        """How many messages a channel has stored."""
        count: int = await self._value(
            "SELECT COUNT(*) FROM messages WHERE channel_id = $1", channel_id
        )
        return count

    async def edit_message(self, discord_id: int, text: str) -> bool:
        """Replace a message's text and mark it edited; False if unknown or unchanged."""
        async with self._db.transaction() as conn:
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
        sql = f"DELETE FROM messages WHERE id = {find_by_discord_id('$1')}"
        return bool(await self._count(sql, discord_id))

    async def rewind(self, channel_id: int, after_discord_id: int) -> int:
        """Forget every message after a Discord message, and summaries covering them.

        Returns how many messages were deleted.

        Raises:
            NotFoundError: that Discord message is not stored in this channel.

        """
        async with self._db.transaction() as conn:
            await self._db.lock_erasures(conn)
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
            deleted = await conn.count(
                "DELETE FROM messages WHERE channel_id = $1 AND id > $2", channel_id, keep_until
            )
            await conn.execute(
                "DELETE FROM summaries WHERE channel_id = $1 AND covers_until > $2",
                channel_id,
                keep_until,
            )
        return deleted


async def _locked_reply(conn: Connection, reply_id: int, for_update: str) -> MessageRecord:
    """A reply, locked until the transaction ends: its alternatives change one at a time."""
    row = await conn.fetchrow(f"{_SELECT} WHERE id = $1{for_update}", reply_id)
    if row is None or row[6] != AuthorKind.PERSONA.value:
        raise NotFoundError(f"no reply with id {reply_id}")
    return message_from_row(row)


async def _replace_discord_ids(conn: Connection, message_id: int, ids: Sequence[int]) -> None:
    first, more = (ids[0], " ".join(str(int(i)) for i in ids[1:])) if ids else (None, "")
    await conn.execute(
        "UPDATE messages SET discord_id = $1, more_discord_ids = $2 WHERE id = $3",
        first,
        more,
        message_id,
    )
    await conn.execute("DELETE FROM discord_parts WHERE message_id = $1", message_id)
    if len(ids) > 1:
        await conn.executemany(
            "INSERT INTO discord_parts (discord_id, message_id) VALUES ($1, $2)",
            [(int(part), message_id) for part in ids[1:]],
        )


def message_from_row(row: Row) -> MessageRecord:
    """A `MessageRecord` from a row selected with `MESSAGE_COLUMNS`."""
    # On the hot path (every window row): unpack once, construct positionally.
    (
        message_id, channel_id, guild_id, discord_id, author_id, author_name, kind, persona_id,
        text, reply_to, created_at, edited_at, ooc, status, swipe_index, swipe_count, more,
    ) = row  # fmt: skip
    if discord_id is None:
        discord_ids: tuple[int, ...] = ()
    elif more:
        discord_ids = (discord_id, *map(int, more.split()))
    else:
        discord_ids = (discord_id,)
    return MessageRecord(
        message_id, channel_id, guild_id, discord_id, author_id, author_name, _KINDS[kind],
        persona_id, text, reply_to, created_at, edited_at, bool(ooc), _STATUSES[status],
        swipe_index, swipe_count, discord_ids,
    )  # fmt: skip
