"""Tell a guild's admins, once, about problems only they can fix."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import discord

from bot.errors import ALERT_TEXT, AdminAlert
from bot.memory import Store

log = logging.getLogger(__name__)


async def notify_admins(
    client: discord.Client, store: Store, guild: discord.Guild, alert: AdminAlert, channel: Any
) -> bool:
    """Post `alert` to the guild's log channel, else DM the owner; at most once per guild.

    Returns whether a notice was delivered now.
    """
    settings = await store.get_guild_settings(guild.id)
    if alert.value in settings.admin_notified:
        return False
    text = ALERT_TEXT[alert].format(channel=getattr(channel, "mention", "this channel"))
    delivered = False
    if settings.log_channel_id is not None:
        log_channel = client.get_channel(settings.log_channel_id)
        if isinstance(log_channel, discord.abc.Messageable):
            try:
                await log_channel.send(text)
                delivered = True
            except discord.HTTPException:
                log.warning("Could not post an admin alert in guild %s's log channel", guild.id)
    if not delivered and guild.owner_id is not None:
        try:
            owner = guild.owner or await client.fetch_user(guild.owner_id)
            await owner.send(f"**{guild.name}**: {text}")
            delivered = True
        except discord.HTTPException:
            log.warning("Could not DM the owner of guild %s about %s", guild.id, alert.value)
    if delivered:
        notified = settings.admin_notified | {alert.value}
        await store.save_guild_settings(dataclasses.replace(settings, admin_notified=notified))
    return delivered
