"""The Roleplay cog: hands scene events and reply buttons to the scene runtime."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.bot import reply_ephemeral
from bot.errors import UserFacingError
from bot.ui.controls import ReplyButton

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

log = logging.getLogger(__name__)


class Roleplay(commands.Cog):
    """Scene channels: every message goes to the runtime, which decides who answers."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.runtime = bot.services.runtime
        self.port = bot.port

    async def cog_load(self) -> None:
        """Register the persistent reply buttons."""
        self.bot.add_dynamic_items(ReplyButton)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """(Re)connected with a new session: catch up with what happened meanwhile."""
        try:
            await self.runtime.recover()
        except Exception:
            log.exception("Catching up after connecting failed")

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Every player line in a scene is stored; the runtime answers when one is due."""
        incoming = self.port.incoming(message)
        if incoming is not None:
            await self.runtime.message_arrived(incoming)

    @commands.Cog.listener()
    async def on_typing(
        self, channel: discord.abc.Messageable, user: discord.abc.User, when: Any
    ) -> None:
        """A player typing holds back an automatic reply."""
        if not user.bot and hasattr(channel, "id"):
            await self.runtime.player_typing(channel.id)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Remember edits players make to scene messages."""
        incoming = self.port.incoming(payload.message)
        if incoming is not None:
            await self.runtime.message_edited(payload.message_id, incoming.text)

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        """A channel's age restriction changed: its scenes (and its threads') pause or go on."""
        if getattr(before, "nsfw", None) == getattr(after, "nsfw", None):
            return
        await self.runtime.rating_changed(after.id)
        for thread in getattr(after, "threads", ()):
            await self.runtime.rating_changed(thread.id)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """Forget what a deleted message showed."""
        await self.runtime.message_deleted(payload.channel_id, payload.message_id)

    async def on_reply_action(
        self, interaction: discord.Interaction[Any], action: str, reply_id: int
    ) -> None:
        """A reply button was pressed: stop, flip, regenerate, retry or continue."""
        channel_id = interaction.channel_id
        if channel_id is None:
            return
        try:
            if action == "stop":
                self.runtime.stop(channel_id)
                await interaction.response.defer()
                return
            await self.runtime.check_changeable(channel_id, reply_id)
            await interaction.response.defer()
            user_id = interaction.user.id
            if action in ("prev", "next"):
                await self.runtime.flip(channel_id, reply_id, -1 if action == "prev" else 1)
            elif action in ("regen", "retry"):
                await self.runtime.regenerate(channel_id, reply_id, user_id=user_id)
            elif action == "cont":
                await self.runtime.continue_reply(channel_id, reply_id, user_id=user_id)
        except UserFacingError as error:
            await reply_ephemeral(interaction, str(error))


async def setup(bot: RoleplayBot) -> None:
    """Load the Roleplay cog."""
    await bot.add_cog(Roleplay(bot))
