"""Backend-neutral conversions between memory records and the values of database rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, get_args

from bot.memory.records import (
    ChannelConfig,
    GuildSettings,
    MessageRecord,
    NewMessage,
    OocMode,
    ReplyMode,
    StoredPersona,
    Summary,
    UsageRecord,
    UsageReport,
    UsageTotals,
)
from bot.models import AuthorKind, PlayerSheet, ReplyStatus
from bot.pricing import resolve_cost

Row = Sequence[Any]
"""A database row as either driver returns it: indexable and unpackable like a tuple."""

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


def prepare_channel(config: ChannelConfig, clock: Callable[[], float]) -> ChannelConfig:
    """The validated configuration `save_channel` stores and returns, stamped by `clock`."""
    validate_channel(config)
    now = clock()
    return replace(
        config, cast=tuple(config.cast), generation=dict(config.generation), updated_at=now
    )


def channel_values(saved: ChannelConfig) -> tuple[Any, ...]:
    """Arguments of the channel upsert, in column order (ending with `updated_at`)."""
    return (
        saved.channel_id,
        saved.guild_id,
        saved.enabled,
        saved.scene_name,
        saved.scene_setting,
        saved.reply_mode,
        saved.lull_seconds,
        dump_json(saved.generation),
        saved.ooc_mode,
        saved.updated_at,
    )


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


def cast_values(config: ChannelConfig, joined_after: int, now: float) -> list[tuple[Any, ...]]:
    """Arguments of the cast upsert, one tuple per member in cast order."""
    return [
        (config.channel_id, persona_id, position, joined_after, now)
        for position, persona_id in enumerate(config.cast)
    ]


def guild_settings_values(settings: GuildSettings, now: float) -> tuple[Any, ...]:
    """Arguments of the guild settings upsert, in column order."""
    return (
        settings.guild_id,
        settings.log_channel_id,
        settings.gm_role_id,
        settings.daily_budget_usd,
        settings.user_daily_budget_usd,
        json.dumps(sorted(settings.admin_notified)),
        now,
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


def persona_card_text(persona_id: str, card: Mapping[str, Any]) -> str:
    """A persona card as stored JSON text (raises ValueError if it is not JSON)."""
    try:
        return dump_json(dict(card))
    except TypeError as exc:
        raise ValueError(f"persona card {persona_id!r} is not JSON: {exc}") from exc


def stored_persona(guild_id: int, persona_id: str, card: str, updated_at: float) -> StoredPersona:
    """A `StoredPersona` from its stored JSON card text."""
    return StoredPersona(guild_id, persona_id, json.loads(card), updated_at)


def sheet_scope(guild_id: int | None) -> int:
    """The `guild_id` a sheet is stored under: the guild's, or `GLOBAL_SHEET`."""
    return guild_id if guild_id is not None else GLOBAL_SHEET


def sheet_values(sheet: PlayerSheet, guild_id: int | None, now: float) -> tuple[Any, ...]:
    """Arguments of the sheet upsert, in column order."""
    return (
        sheet.user_id,
        sheet_scope(guild_id),
        sheet.name,
        sheet.description,
        sheet.avatar_url,
        now,
    )


def sheets_by_user(rows: Iterable[Row]) -> dict[int, PlayerSheet]:
    """Sheets from `user_id, name, description, avatar_url` rows; later rows win."""
    return {row[0]: PlayerSheet(row[0], row[1], row[2], row[3]) for row in rows}


# Messages


def new_message_values(message: NewMessage, clock: Callable[[], float]) -> tuple[Any, ...]:
    """Arguments of the message insert, in column order (the reply's Discord id ninth)."""
    return (
        message.channel_id,
        message.guild_id,
        message.discord_id,
        message.author_id,
        message.author_name,
        message.kind.value,
        message.persona_id,
        message.text,
        message.reply_to_discord_id,
        clock() if message.created_at is None else message.created_at,
        message.ooc,
    )


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


def require_finished(status: ReplyStatus) -> None:
    """Refuse `streaming` as the final status of a reply (raises ValueError)."""
    if status is ReplyStatus.STREAMING:
        raise ValueError("a finished reply is complete, interrupted or failed, not streaming")


def split_discord_ids(discord_ids: Sequence[int]) -> tuple[int | None, str]:
    """The first Discord id and the rest as stored in `more_discord_ids`."""
    if not discord_ids:
        return None, ""
    return discord_ids[0], " ".join(str(int(part)) for part in discord_ids[1:])


def discord_part_values(message_id: int, discord_ids: Sequence[int]) -> list[tuple[int, int]]:
    """Arguments of the `discord_parts` insert: every Discord id after the first."""
    return [(int(part), message_id) for part in discord_ids[1:]]


def with_discord_ids(record: MessageRecord, discord_ids: Sequence[int]) -> MessageRecord:
    """`record` as shown by the Discord messages `discord_ids`, first one first."""
    return replace(
        record,
        discord_id=discord_ids[0] if discord_ids else None,
        discord_ids=tuple(discord_ids),
    )


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


def usage_values(record: UsageRecord, clock: Callable[[], float]) -> tuple[Any, ...]:
    """Arguments of the ledger insert, priced from M2-her's list when `cost_usd` is None."""
    cost = resolve_cost(
        record.cost_usd, record.prompt_tokens, record.completion_tokens, record.cached_tokens
    )
    return (
        record.guild_id,
        record.channel_id,
        record.user_id,
        record.persona_id,
        record.prompt_tokens,
        record.completion_tokens,
        record.cached_tokens,
        cost,
        clock() if record.created_at is None else record.created_at,
    )


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
