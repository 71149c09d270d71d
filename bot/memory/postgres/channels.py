"""Channel and guild settings, and who is in each channel's cast, in PostgreSQL."""

from __future__ import annotations

from bot.memory.postgres.base import Connection, PostgresBase
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

# One row per channel, its cast gathered in order into an array: one round trip.
_SELECT_CHANNELS = f"""
SELECT {CHANNEL_COLUMNS},
       COALESCE(
           array_agg(k.persona_id ORDER BY k.position) FILTER (WHERE k.persona_id IS NOT NULL),
           '{{}}'
       )
FROM channels AS c LEFT JOIN channel_cast AS k ON k.channel_id = c.channel_id
"""

_UPSERT_CHANNEL = """
INSERT INTO channels (channel_id, guild_id, enabled, scene_name, scene_setting, reply_mode,
                      lull_seconds, generation, ooc_mode, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (guild_id) DO UPDATE SET
    log_channel_id = excluded.log_channel_id,
    gm_role_id = excluded.gm_role_id,
    daily_budget_usd = excluded.daily_budget_usd,
    user_daily_budget_usd = excluded.user_daily_budget_usd,
    admin_notified = excluded.admin_notified,
    updated_at = excluded.updated_at
"""


class ChannelsMixin(PostgresBase):
    """Channel configuration, cast membership and guild settings."""

    async def get_channel(self, channel_id: int) -> ChannelConfig | None:
        """A channel's roleplay settings, or None if it was never configured."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"{_SELECT_CHANNELS} WHERE c.channel_id = $1 GROUP BY c.channel_id", channel_id
            )
        return None if row is None else channel_from_row(row, row[10])

    async def list_enabled_channels(self, guild_id: int | None = None) -> list[ChannelConfig]:
        """Channels with roleplay on, in one guild or everywhere."""
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"{_SELECT_CHANNELS} WHERE c.enabled AND ($1::BIGINT IS NULL OR c.guild_id = $1) "
                "GROUP BY c.channel_id ORDER BY c.channel_id",
                guild_id,
            )
        return [channel_from_row(row, row[10]) for row in rows]

    async def save_channel(self, config: ChannelConfig) -> ChannelConfig:
        """Create or replace a channel's settings; returns them with `updated_at` set."""
        saved = prepare_channel(config, self._clock)
        # The upsert locks the channel's row first, so concurrent saves of one channel
        # (from any process) apply one after the other.
        async with self._transaction() as conn:
            await conn.execute(_UPSERT_CHANNEL, *channel_values(saved))
            await _sync_cast(conn, saved, saved.updated_at)
        return saved

    async def cast_joined(self, channel_id: int) -> dict[str, int]:
        """Each cast member's join point: the newest message id then (0 = from the start)."""
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT persona_id, joined_after FROM channel_cast "
                "WHERE channel_id = $1 ORDER BY position",
                channel_id,
            )
        return {row[0]: row[1] for row in rows}

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """A guild's settings, or the defaults if it never saved any."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT log_channel_id, gm_role_id, daily_budget_usd, user_daily_budget_usd, "
                "admin_notified FROM guild_settings WHERE guild_id = $1",
                guild_id,
            )
        return guild_settings_from_row(guild_id, row)

    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Create or replace a guild's settings."""
        async with self._connection() as conn:
            await conn.execute(_UPSERT_GUILD, *guild_settings_values(settings, self._clock()))
        return settings


async def _sync_cast(conn: Connection, config: ChannelConfig, now: float) -> None:
    current = {
        row[0]
        for row in await conn.fetch(
            "SELECT persona_id FROM channel_cast WHERE channel_id = $1", config.channel_id
        )
    }
    removed = current.difference(config.cast)
    if removed:
        await conn.execute(
            "DELETE FROM channel_cast WHERE channel_id = $1 AND persona_id = ANY($2::TEXT[])",
            config.channel_id,
            sorted(removed),
        )
    if not config.cast:
        return
    newest = 0
    if not current.issuperset(config.cast):
        newest = await conn.fetchval(
            "SELECT COALESCE(MAX(id), 0) FROM messages WHERE channel_id = $1", config.channel_id
        )
    # Members already present keep their join point; only their order changes.
    await conn.executemany(
        "INSERT INTO channel_cast (channel_id, persona_id, position, joined_after, joined_at) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (channel_id, persona_id) DO UPDATE SET position = excluded.position",
        cast_values(config, newest, now),
    )
