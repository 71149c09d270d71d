"""Backend-neutral conversions between memory records and the values of database rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, get_args

from bot.memory.backend import Row
from bot.memory.records import (
    ChannelConfig,
    GuildSettings,
    MessageRecord,
    OocMode,
    ReplyMode,
    Summary,
    UsageReport,
    UsageTotals,
)
from bot.models import AuthorKind, PlayerSheet, ReplyStatus

MESSAGE_COLUMNS = (
    "id, channel_id, guild_id, discord_id, author_id, author_name, kind, persona_id, text, "
    "reply_to, created_at, edited_at, ooc, status, swipe_index, swipe_count, more_discord_ids"
)

SUMMARY_COLUMNS = "id, channel_id, persona_id, text, covers_until, created_at, version, author_id"

CHANNEL_COLUMNS = (
    "c.channel_id, c.guild_id, c.enabled, c.scene_name, c.scene_setting, c.reply_mode, "
    "c.lull_seconds, c.generation, c.ooc_mode, c.updated_at"
)
"""The columns `channel_from_row` reads, from `channels AS c`."""

USAGE_GROUPS = ("channel_id", "user_id", "persona_id")
"""The ledger columns a usage report breaks totals down by."""

COUNTED_TABLES = (
    "messages",
    "channels",
    "personas",
    "player_sheets",
    "summaries",
    "pins",
    "usage_ledger",
)
"""The tables whose row counts `Store.stats` reports."""

GLOBAL_SHEET = 0
"""The `guild_id` under which a player's global sheet is stored."""

_KINDS = {kind.value: kind for kind in AuthorKind}
_STATUSES = {status.value: status for status in ReplyStatus}


def find_by_discord_id(parameter: str) -> str:
    """A scalar subquery: the memory id the Discord message `parameter` belongs to."""
    return (
        f"(SELECT id FROM messages WHERE discord_id = {parameter} "
        f"UNION ALL SELECT message_id FROM discord_parts WHERE discord_id = {parameter} LIMIT 1)"
    )


def dump_json(value: Any) -> str:
    """JSON text that loads back to an equal value (key order, big ints, floats, unicode)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates can't be stored as UTF-8 text; escaped, they round-trip.
        text = json.dumps(value, ensure_ascii=True, allow_nan=False)
    return text


# Channels and guilds


def validate_channel(config: ChannelConfig) -> None:
    """Refuse a channel configuration either backend would store wrongly (raises ValueError)."""
    if config.reply_mode not in get_args(ReplyMode):
        raise ValueError(f"reply_mode must be one of {get_args(ReplyMode)}")
    if config.ooc_mode is not None and config.ooc_mode not in get_args(OocMode):
        raise ValueError(f"ooc_mode must be None or one of {get_args(OocMode)}")
    if len(set(config.cast)) != len(config.cast):
        raise ValueError("a persona can be in a channel's cast only once")
    for key, value in config.generation.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"generation override {key!r} must be a number")


def channel_from_row(row: Row, cast: Iterable[str]) -> ChannelConfig:
    """A `ChannelConfig` from a row starting with `CHANNEL_COLUMNS`, and its cast in order."""
    return ChannelConfig(
        channel_id=row[0],
        guild_id=row[1],
        enabled=bool(row[2]),
        cast=tuple(cast),
        scene_name=row[3],
        scene_setting=row[4],
        reply_mode=row[5],
        lull_seconds=row[6],
        generation=json.loads(row[7]),
        ooc_mode=row[8],
        updated_at=row[9],
    )


def guild_settings_from_row(guild_id: int, row: Row | None) -> GuildSettings:
    """A guild's settings from its stored row, or the defaults when it has none."""
    if row is None:
        return GuildSettings(guild_id=guild_id)
    return GuildSettings(
        guild_id=guild_id,
        log_channel_id=row[0],
        gm_role_id=row[1],
        daily_budget_usd=row[2],
        user_daily_budget_usd=row[3],
        admin_notified=frozenset(json.loads(row[4])),
    )


# Personas and sheets


def sheets_by_user(rows: Iterable[Row]) -> dict[int, PlayerSheet]:
    """Sheets from `user_id, name, description, avatar_url` rows; later rows win."""
    return {row[0]: PlayerSheet(row[0], row[1], row[2], row[3]) for row in rows}


# Messages


def message_from_row(row: Row) -> MessageRecord:
    """A `MessageRecord` from a row selected with `MESSAGE_COLUMNS`."""
    # On the hot path (every window row): unpack once, construct positionally.
    (
        message_id,
        channel_id,
        guild_id,
        discord_id,
        author_id,
        author_name,
        kind,
        persona_id,
        text,
        reply_to,
        created_at,
        edited_at,
        ooc,
        status,
        swipe_index,
        swipe_count,
        more_discord_ids,
    ) = row
    if discord_id is None:
        discord_ids: tuple[int, ...] = ()
    elif more_discord_ids:
        discord_ids = (discord_id, *map(int, more_discord_ids.split()))
    else:
        discord_ids = (discord_id,)
    return MessageRecord(
        message_id,
        channel_id,
        guild_id,
        discord_id,
        author_id,
        author_name,
        _KINDS[kind],
        persona_id,
        text,
        reply_to,
        created_at,
        edited_at,
        bool(ooc),
        _STATUSES[status],
        swipe_index,
        swipe_count,
        discord_ids,
    )


def split_discord_ids(discord_ids: Sequence[int]) -> tuple[int | None, str]:
    """The first Discord id and the rest as stored in `more_discord_ids`."""
    if not discord_ids:
        return None, ""
    return discord_ids[0], " ".join(str(int(part)) for part in discord_ids[1:])


# Summaries

CHANNEL_SUMMARY = ""
"""The `persona_id` stored for a channel-wide summary (the column is NOT NULL)."""


def summary_key(persona_id: str | None) -> str:
    """The stored `persona_id` of a summary: the persona's, or `CHANNEL_SUMMARY`."""
    return persona_id or CHANNEL_SUMMARY


def erase_summaries_covering(author: str) -> str:
    """A DELETE of every summary built from a user's messages, returning each `channel_id`.

    It erases every version, channel-wide and per persona, of the summaries of each channel
    where some version covers a human message by the user whose id is the placeholder
    `author`. A version covers its channel's messages up to `covers_until`, and memory ids
    only grow, so the user's oldest message in a channel decides.
    """
    return (
        "DELETE FROM summaries WHERE channel_id IN ("
        "SELECT m.channel_id FROM messages AS m "
        f"WHERE m.author_id = {author} AND m.kind = 'human' "
        "GROUP BY m.channel_id "
        "HAVING MIN(m.id) <= (SELECT MAX(s.covers_until) FROM summaries AS s "
        "WHERE s.channel_id = m.channel_id)) "
        "RETURNING channel_id"
    )


def summary_from_row(row: Row) -> Summary:
    """A `Summary` from a row selected with `SUMMARY_COLUMNS`."""
    return Summary(
        id=row[0],
        channel_id=row[1],
        persona_id=row[2] or None,
        text=row[3],
        covers_until=row[4],
        created_at=row[5],
        version=row[6],
        author_id=row[7],
    )


# Usage


def usage_report_from_rows(
    guild_id: int, since: float | None, total: Row, groups: Mapping[str, Iterable[Row]]
) -> UsageReport:
    """A report from the totals row and, per `USAGE_GROUPS` column, its `key, totals` rows."""
    by_key = {
        column: {row[0]: UsageTotals(*row[1:]) for row in rows} for column, rows in groups.items()
    }
    return UsageReport(
        guild_id=guild_id,
        since=since,
        total=UsageTotals(*total),
        by_channel=by_key["channel_id"],
        by_user=by_key["user_id"],
        by_persona=by_key["persona_id"],
    )
