"""Channel and guild settings, each channel's cast, guild persona cards and player sheets."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, get_args

from bot.memory.backend import SHEET, Connection, Row, StoreBase, upsert
from bot.memory.records import ChannelConfig, GuildSettings, OocMode, ReplyMode, StoredPersona
from bot.models import PlayerSheet

GLOBAL_SHEET = 0
"""The `guild_id` under which a player's global sheet is stored."""


# One row per cast member (or one with a NULL persona for an empty cast): one round trip.
_SELECT_CHANNELS = """
SELECT c.channel_id, c.guild_id, c.enabled, c.scene_name, c.scene_setting, c.reply_mode,
       c.lull_seconds, c.generation, c.ooc_mode, c.updated_at, k.persona_id
FROM channels AS c LEFT JOIN channel_cast AS k ON k.channel_id = c.channel_id
"""

_UPSERT_CHANNEL = upsert(
    "channels",
    "channel_id guild_id enabled scene_name scene_setting reply_mode lull_seconds generation "
    "ooc_mode updated_at",
    key="channel_id",
)
_UPSERT_GUILD = upsert(
    "guild_settings",
    "guild_id log_channel_id gm_role_id daily_budget_usd user_daily_budget_usd admin_notified "
    "updated_at",
    key="guild_id",
)
_UPSERT_PERSONA = upsert("personas", "guild_id persona_id card updated_at", "guild_id persona_id")
_UPSERT_RATING = upsert(
    "persona_ratings", "guild_id persona_id adult updated_at", "guild_id persona_id"
)
_UPSERT_SHEET = upsert(
    "player_sheets", "user_id guild_id name description avatar_url updated_at", "user_id guild_id"
)


class ChannelsMixin(StoreBase):
    """Channel configuration, cast membership, guild settings, personas and sheets."""

    async def get_channel(self, channel_id: int) -> ChannelConfig | None:
        """A channel's roleplay settings, or None if it was never configured."""
        sql = f"{_SELECT_CHANNELS} WHERE c.channel_id = $1 ORDER BY k.position"
        configs = _channels_from_rows(await self._rows(sql, channel_id))
        return configs[0] if configs else None

    async def save_channel(self, config: ChannelConfig) -> ChannelConfig:
        """Create or replace a channel's settings; returns them with `updated_at` set.

        Personas new to `config.cast` are recorded as joining after the newest message.
        The upsert locks the channel's row first, so concurrent saves of one channel (from
        any process) apply one after the other.

        Raises:
            ValueError: a setting either backend would store wrongly.

        """
        _validate(config)
        now = self._clock()
        saved = replace(config, cast=tuple(config.cast), generation=dict(config.generation))
        saved = replace(saved, updated_at=now)
        async with self._db.transaction() as conn:
            await conn.execute(
                _UPSERT_CHANNEL,
                saved.channel_id, saved.guild_id, saved.enabled, saved.scene_name,
                saved.scene_setting, saved.reply_mode, saved.lull_seconds,
                dump_json(saved.generation, "generation"), saved.ooc_mode, now,
            )  # fmt: skip
            await _sync_cast(conn, saved)
        return saved

    async def list_enabled_channels(self, guild_id: int | None = None) -> list[ChannelConfig]:
        """Channels with roleplay on, in one guild or everywhere."""
        where = "c.enabled = TRUE" + ("" if guild_id is None else " AND c.guild_id = $1")
        params = () if guild_id is None else (guild_id,)
        sql = f"{_SELECT_CHANNELS} WHERE {where} ORDER BY c.channel_id, k.position"
        return _channels_from_rows(await self._rows(sql, *params))

    async def cast_joined(self, channel_id: int) -> dict[str, int]:
        """Each cast member's join point: the newest message id then (0 = from the start)."""
        rows = await self._rows(
            "SELECT persona_id, joined_after FROM channel_cast "
            "WHERE channel_id = $1 ORDER BY position",
            channel_id,
        )
        return {row[0]: row[1] for row in rows}

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """A guild's settings, or the defaults if it never saved any."""
        row = await self._row(
            "SELECT log_channel_id, gm_role_id, daily_budget_usd, user_daily_budget_usd, "
            "admin_notified FROM guild_settings WHERE guild_id = $1",
            guild_id,
        )
        if row is None:
            return GuildSettings(guild_id=guild_id)
        return GuildSettings(
            guild_id, row[0], row[1], row[2], row[3], frozenset(json.loads(row[4]))
        )

    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Create or replace a guild's settings."""
        await self._value(
            _UPSERT_GUILD,
            settings.guild_id, settings.log_channel_id, settings.gm_role_id,
            settings.daily_budget_usd, settings.user_daily_budget_usd,
            json.dumps(sorted(settings.admin_notified)), self._clock(),
        )  # fmt: skip
        return settings

    # Personas and player sheets

    async def list_personas(self, guild_id: int) -> list[StoredPersona]:
        """A guild's own persona cards, by id (code point order, whatever the locale)."""
        sql = "SELECT persona_id, card, updated_at FROM personas WHERE guild_id = $1"
        rows = sorted(await self._rows(sql, guild_id), key=lambda row: str(row[0]))
        return [StoredPersona(guild_id, row[0], json.loads(row[1]), row[2]) for row in rows]

    async def get_persona(self, guild_id: int, persona_id: str) -> StoredPersona | None:
        """One of a guild's own persona cards."""
        where = "guild_id = $1 AND persona_id = $2"
        row = await self._row(
            f"SELECT card, updated_at FROM personas WHERE {where}", guild_id, persona_id
        )
        return (
            None if row is None else StoredPersona(guild_id, persona_id, json.loads(row[0]), row[1])
        )

    async def save_persona(
        self, guild_id: int, persona_id: str, card: Mapping[str, Any]
    ) -> StoredPersona:
        """Create or replace a guild's persona card; any JSON value survives unchanged.

        Raises:
            ValueError: the card is not JSON-serialisable (or holds NaN/infinity).

        """
        text = dump_json(dict(card), f"persona card {persona_id!r}")
        now = self._clock()
        await self._value(_UPSERT_PERSONA, guild_id, persona_id, text, now)
        return StoredPersona(guild_id, persona_id, json.loads(text), now)

    async def delete_persona(self, guild_id: int, persona_id: str) -> bool:
        """Remove a guild's persona card; False if there was none."""
        sql = "DELETE FROM personas WHERE guild_id = $1 AND persona_id = $2"
        return bool(await self._count(sql, guild_id, persona_id))

    async def get_persona_adult(self, guild_id: int, persona_id: str) -> bool | None:
        """An admin's word on whether a persona is for adults in a guild (over its card's
        tags), or None if they never gave one.
        """
        where = "guild_id = $1 AND persona_id = $2"
        adult = await self._value(
            f"SELECT adult FROM persona_ratings WHERE {where}", guild_id, persona_id
        )
        return None if adult is None else bool(adult)

    async def set_persona_adult(self, guild_id: int, persona_id: str, adult: bool | None) -> None:
        """Mark a persona as for adults or not in a guild; None removes the mark."""
        if adult is None:
            sql = "DELETE FROM persona_ratings WHERE guild_id = $1 AND persona_id = $2"
            await self._count(sql, guild_id, persona_id)
        else:
            await self._value(_UPSERT_RATING, guild_id, persona_id, bool(adult), self._clock())

    async def get_sheet(self, user_id: int, guild_id: int | None) -> PlayerSheet | None:
        """A player's sheet: the guild's one if set, else their global one."""
        return (await self.get_sheets((user_id,), guild_id)).get(user_id)

    async def get_sheets(
        self, user_ids: Iterable[int], guild_id: int | None
    ) -> dict[int, PlayerSheet]:
        """Sheets of several players at once (guild sheets win); players without one are absent."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        users, ids = self._db.any_of("user_id", "$1", wanted)
        # Global sheets sort first, so a guild sheet read later replaces them.
        rows = await self._rows(
            "SELECT user_id, name, description, avatar_url FROM player_sheets "
            f"WHERE {users} AND guild_id IN ($2, $3) ORDER BY guild_id = $2",
            ids,
            _scope(guild_id),
            GLOBAL_SHEET,
        )
        return {row[0]: PlayerSheet(row[0], row[1], row[2], row[3]) for row in rows}

    async def save_sheet(self, sheet: PlayerSheet, guild_id: int | None) -> None:
        """Create or replace a player's sheet for one guild, or globally when `guild_id` is None.

        Other processes sharing the database hear of it on commit (`on_sheet_changed`).
        """
        async with self._db.transaction() as conn:
            await conn.execute(
                _UPSERT_SHEET,
                sheet.user_id, _scope(guild_id), sheet.name, sheet.description, sheet.avatar_url,
                self._clock(),
            )  # fmt: skip
            await self._db.notify(conn, SHEET, sheet.user_id)

    async def clear_sheet(self, user_id: int, guild_id: int | None) -> bool:
        """Remove a player's guild (or global) sheet; False if there was none."""
        sql = "DELETE FROM player_sheets WHERE user_id = $1 AND guild_id = $2"
        async with self._db.transaction() as conn:
            removed = await conn.count(sql, user_id, _scope(guild_id))
            if removed:
                await self._db.notify(conn, SHEET, user_id)
        return bool(removed)


def _scope(guild_id: int | None) -> int:
    """The `guild_id` a sheet is stored under: the guild's, or `GLOBAL_SHEET`."""
    return guild_id if guild_id is not None else GLOBAL_SHEET


async def _sync_cast(conn: Connection, config: ChannelConfig) -> None:
    sql = "SELECT persona_id FROM channel_cast WHERE channel_id = $1"
    current = {row[0] for row in await conn.fetch(sql, config.channel_id)}
    removed = current.difference(config.cast)
    if removed:
        await conn.executemany(
            "DELETE FROM channel_cast WHERE channel_id = $1 AND persona_id = $2",
            [(config.channel_id, persona_id) for persona_id in sorted(removed)],
        )
    if not config.cast:
        return
    newest = 0
    if not current.issuperset(config.cast):
        sql = "SELECT COALESCE(MAX(id), 0) FROM messages WHERE channel_id = $1"
        newest = await conn.fetchval(sql, config.channel_id)
    # Members already present keep their join point; only their order changes.
    await conn.executemany(
        "INSERT INTO channel_cast (channel_id, persona_id, position, joined_after, joined_at) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (channel_id, persona_id) DO UPDATE SET position = excluded.position",
        [
            (config.channel_id, persona_id, position, newest, config.updated_at)
            for position, persona_id in enumerate(config.cast)
        ],
    )


def _channels_from_rows(rows: Sequence[Row]) -> list[ChannelConfig]:
    """Channels from `_SELECT_CHANNELS` rows, one per cast member, in cast order."""
    configs: list[ChannelConfig] = []
    cast: list[str] = []
    for index, row in enumerate(rows):
        if row[10] is not None:
            cast.append(row[10])
        if index + 1 < len(rows) and rows[index + 1][0] == row[0]:
            continue
        values = [*row[:10]]
        values[7] = json.loads(row[7])  # generation
        values[2:3] = [bool(row[2]), tuple(cast)]  # enabled, then the cast
        configs.append(ChannelConfig(*values))
        cast = []
    return configs


def dump_json(value: Any, what: str) -> str:
    """JSON text that loads back to an equal value (key order, big ints, floats, unicode).

    Raises:
        ValueError: `value` (named `what` in the message) is not JSON-serialisable, or holds
            NaN or infinity.

    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from exc
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates can't be stored as UTF-8 text; escaped, they round-trip.
        text = json.dumps(value, ensure_ascii=True, allow_nan=False)
    return text


def _validate(config: ChannelConfig) -> None:
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
