"""Turn Discord messages into plain text and records the core understands."""

from __future__ import annotations

import discord

from bot.text import render_discord_markup, strip_invisible


def display_name(author: discord.abc.User) -> str:
    """The name players see: server nickname, else global display name, else username."""
    return author.display_name or author.name


def plain_text(message: discord.Message) -> str:
    """Message content with mentions as names, custom emoji as :name:, invisible chars gone."""
    users = {user.id: display_name(user) for user in message.mentions}
    roles = {role.id: role.name for role in message.role_mentions}
    channels = {
        channel.id: getattr(channel, "name", str(channel.id))
        for channel in message.channel_mentions
    }
    text = render_discord_markup(message.content, users=users, roles=roles, channels=channels)
    if message.attachments:
        names = ", ".join(a.filename for a in message.attachments)
        text = f"{text}\n[attached: {names}]" if text else f"[attached: {names}]"
    return strip_invisible(text).strip()


def reply_target_id(message: discord.Message) -> int | None:
    """The id of the message this one replies to, if any."""
    reference = message.reference
    if reference is None or reference.message_id is None:
        return None
    return reference.message_id
