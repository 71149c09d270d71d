"""JSON shapes of world objects exactly as Discord v10 serves them."""

from __future__ import annotations

from typing import Any

from .snowflakes import now_iso, snowflake_iso
from .world import Channel, Guild, Member, Role, User, Webhook, World


def user_payload(user: User) -> dict[str, Any]:
    """A user object."""
    return {
        "id": str(user.id),
        "username": user.username,
        "global_name": user.global_name,
        "discriminator": "0",
        "avatar": user.avatar,
        "bot": user.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
        "collectibles": None,
    }


def member_payload(world: World, member: Member, *, with_user: bool = True) -> dict[str, Any]:
    """A guild member object (the partial form without `user` goes on messages)."""
    data: dict[str, Any] = {
        "roles": [str(r) for r in member.role_ids],
        "nick": member.nick,
        "avatar": None,
        "banner": None,
        "joined_at": member.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user_payload(world.users[member.user_id])
    return data


def role_payload(role: Role) -> dict[str, Any]:
    """A role object."""
    return {
        "id": str(role.id),
        "name": role.name,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": role.managed,
        "mentionable": False,
        "flags": 0,
    }


def channel_payload(world: World, channel: Channel) -> dict[str, Any]:
    """A channel object: text channel, thread or DM."""
    if channel.is_dm:
        return {
            "id": str(channel.id),
            "type": int(channel.type),
            "last_message_id": _opt_id(channel.last_message_id),
            "recipients": [user_payload(world.users[uid]) for uid in channel.recipient_ids],
            "flags": 0,
        }
    if channel.is_thread:
        return thread_payload(world, channel)
    return {
        "id": str(channel.id),
        "type": int(channel.type),
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "parent_id": None,
        "topic": channel.topic,
        "nsfw": channel.nsfw,
        "rate_limit_per_user": channel.rate_limit_per_user,
        "last_message_id": _opt_id(channel.last_message_id),
        "permission_overwrites": [
            {"id": str(ow.target_id), "type": ow.kind, "allow": str(ow.allow), "deny": str(ow.deny)}
            for ow in channel.overwrites.values()
        ],
        "default_auto_archive_duration": 1440,
        "flags": 0,
    }


def thread_payload(world: World, thread: Channel) -> dict[str, Any]:
    """A thread channel object."""
    return {
        "id": str(thread.id),
        "type": int(thread.type),
        "guild_id": str(thread.guild_id),
        "parent_id": str(thread.parent_id),
        "owner_id": str(thread.owner_id),
        "name": thread.name,
        "last_message_id": _opt_id(thread.last_message_id),
        "message_count": thread.message_count,
        "total_message_sent": thread.message_count,
        "member_count": 1,
        "rate_limit_per_user": thread.rate_limit_per_user,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": thread.archived,
            "auto_archive_duration": thread.auto_archive_duration,
            "archive_timestamp": snowflake_iso(thread.id),
            "locked": thread.locked,
            "invitable": True,
            "create_timestamp": snowflake_iso(thread.id),
        },
    }


def guild_payload(world: World, guild: Guild) -> dict[str, Any]:
    """A guild object as `GET /guilds/{id}` returns it (no channels or members)."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "region": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role_payload(r) for r in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": guild.locale,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "max_members": 500000,
        "approximate_member_count": len(guild.members),
        "approximate_presence_count": 0,
    }


def guild_create_payload(world: World, guild: Guild, *, all_members: bool) -> dict[str, Any]:
    """The GUILD_CREATE dispatch; without the presences intent only the bot's member is listed."""
    data = guild_payload(world, guild)
    channels = [world.channels[cid] for cid in guild.channel_ids]
    members = [m for m in guild.members.values() if all_members or m.user_id == world.bot_user.id]
    bot_member = guild.members.get(world.bot_user.id)
    data.update(
        {
            "unavailable": False,
            "large": False,
            "member_count": len(guild.members),
            "joined_at": bot_member.joined_at if bot_member else now_iso(),
            "channels": [channel_payload(world, c) for c in channels if not c.is_thread],
            "threads": [
                thread_payload(world, c) for c in channels if c.is_thread and not c.archived
            ],
            "members": [member_payload(world, m) for m in members],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
    )
    return data


def webhook_payload(world: World, hook: Webhook, *, with_token: bool = True) -> dict[str, Any]:
    """An incoming webhook object."""
    creator = world.users.get(hook.creator_id) if hook.creator_id is not None else None
    data: dict[str, Any] = {
        "id": str(hook.id),
        "type": 1,
        "guild_id": str(hook.guild_id),
        "channel_id": str(hook.channel_id),
        "name": hook.name,
        "avatar": hook.avatar,
        "application_id": _opt_id(hook.application_id),
        "user": None if creator is None else user_payload(creator),
    }
    if with_token:
        data["token"] = hook.token
    return data


def webhook_author(hook: Webhook, username: str | None) -> dict[str, Any]:
    """The pseudo-user that authors a webhook message."""
    return {
        "id": str(hook.id),
        "username": username or hook.name,
        "global_name": None,
        "discriminator": "0000",
        "avatar": hook.avatar,
        "bot": True,
        "public_flags": 0,
        "flags": 0,
    }


def _opt_id(value: int | None) -> str | None:
    return None if value is None else str(value)
