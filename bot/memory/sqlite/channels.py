"""Channel and guild settings, and who is in each channel's cast, in SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from bot.memory.records import ChannelConfig, GuildSettings
from bot.memory.rows import (
    CHANNEL_COLUMNS,
    cast_values,
    channel_from_row,
    channel_values,
    guild_settings_from_row,
    guild_settings_values,
    prepare_channel,
)
from bot.memory.sqlite.base import Row, Sql, SqliteBase

# One row per cast member (or one with a NULL persona for an empty cast): one round trip.
_SELECT_CHANNELS = f"""
SELECT {CHANNEL_COLUMNS}, k.persona_id
FROM channels AS c LEFT JOIN channel_cast AS k ON k.channel_id = c.channel_id
"""

_UPSERT_CHANNEL = """
INSERT INTO channels (channel_id, guild_id, enabled, scene_name, scene_setting, reply_mode,
                      lull_seconds, generation, ooc_mode, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (channel_id) DO UPDATE SET
    guild_id = excluded.guild_id,
    enabled = excluded.enabled,
    scene_name = excluded.scene_name,
    scene_setting = excluded.scene_setting,
    reply_mode = excluded.reply_mode,
    lull_seconds = excluded.lull_seconds,
    generation = excluded.generation,
    ooc_mode = excluded.ooc_mode,
    updated_at = excluded.updated_at
"""

_UPSERT_GUILD = """
INSERT INTO guild_settings (guild_id, log_channel_id, gm_role_id, daily_budget_usd,
                            user_daily_budget_usd, admin_notified, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (guild_id) DO UPDATE SET
    log_channel_id = excluded.log_channel_id,
    gm_role_id = excluded.gm_role_id,
    daily_budget_usd = excluded.daily_budget_usd,
    user_daily_budget_usd = excluded.user_daily_budget_usd,
    admin_notified = excluded.admin_notified,
    updated_at = excluded.updated_at
"""


class ChannelsMixin(SqliteBase):
    """Channel configuration, cast membership and guild settings."""

    async def get_channel(self, channel_id: int) -> ChannelConfig | None:
        """A channel's roleplay settings, or None if it was never configured."""
        async with self._locked() as sql:
            rows = await sql.fetchall(
                f"{_SELECT_CHANNELS} WHERE c.channel_id = ? ORDER BY k.position", (channel_id,)
            )
        configs = _channels_from_rows(rows)
        return configs[0] if configs else None

    async def list_enabled_channels(self, guild_id: int | None = None) -> list[ChannelConfig]:
        """Channels with roleplay on, in one guild or everywhere."""
        where = "c.enabled = 1" if guild_id is None else "c.enabled = 1 AND c.guild_id = ?"
        params = () if guild_id is None else (guild_id,)
        async with self._locked() as sql:
            rows = await sql.fetchall(
                f"{_SELECT_CHANNELS} WHERE {where} ORDER BY c.channel_id, k.position", params
            )
        return _channels_from_rows(rows)

    async def save_channel(self, config: ChannelConfig) -> ChannelConfig:
        """Create or replace a channel's settings; returns them with `updated_at` set."""
        saved = prepare_channel(config, self._clock)
        async with self._transaction() as sql:
            await sql.execute(_UPSERT_CHANNEL, channel_values(saved))
            await _sync_cast(sql, saved, saved.updated_at)
        return saved

    async def cast_joined(self, channel_id: int) -> dict[str, int]:
        """Each cast member's join point: the newest message id then (0 = from the start)."""
        async with self._locked() as sql:
            rows = await sql.fetchall(
                "SELECT persona_id, joined_after FROM channel_cast "
                "WHERE channel_id = ? ORDER BY position",
                (channel_id,),
            )
        return {row[0]: row[1] for row in rows}

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """A guild's settings, or the defaults if it never saved any."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                "SELECT log_channel_id, gm_role_id, daily_budget_usd, user_daily_budget_usd, "
                "admin_notified FROM guild_settings WHERE guild_id = ?",
                (guild_id,),
            )
        return guild_settings_from_row(guild_id, row)

    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Create or replace a guild's settings."""
        async with self._locked() as sql:
            await sql.execute(_UPSERT_GUILD, guild_settings_values(settings, self._clock()))
        return settings


async def _sync_cast(sql: Sql, config: ChannelConfig, now: float) -> None:
    current = {
        row[0]
        for row in await sql.fetchall(
            "SELECT persona_id FROM channel_cast WHERE channel_id = ?", (config.channel_id,)
        )
    }
    removed = current.difference(config.cast)
    if removed:
        await sql.executemany(
            "DELETE FROM channel_cast WHERE channel_id = ? AND persona_id = ?",
            [(config.channel_id, persona_id) for persona_id in removed],
        )
    if not config.cast:
        return
    newest = 0
    if not current.issuperset(config.cast):
        newest = await sql.scalar(
            "SELECT COALESCE(MAX(id), 0) FROM messages WHERE channel_id = ?", (config.channel_id,)
        )
    # Members already present keep their join point; only their order changes.
    await sql.executemany(
        "INSERT INTO channel_cast (channel_id, persona_id, position, joined_after, joined_at) "
        "VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (channel_id, persona_id) DO UPDATE SET position = excluded.position",
        cast_values(config, newest, now),
    )


def _channels_from_rows(rows: Sequence[Row]) -> list[ChannelConfig]:
    configs: list[ChannelConfig] = []
    cast: list[str] = []
    for index, row in enumerate(rows):
        if row[10] is not None:
            cast.append(row[10])
        is_last_of_channel = index + 1 == len(rows) or rows[index + 1][0] != row[0]
        if not is_last_of_channel:
            continue
        configs.append(channel_from_row(row, cast))
        cast = []
    return configs
