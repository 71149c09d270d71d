"""/regenerate, /continue and /stop: the reply buttons as commands, for keyboard players."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.engine import ReplyOutcome, StopReason
from bot.errors import UserFacingError
from bot.ui.scene_views import Interaction, SceneChannel

if TYPE_CHECKING:
    from bot.bot import RoleplayBot


class Controls(commands.Cog):
    """Work on the newest persona reply of a scene without pressing its buttons."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.runtime = bot.services.runtime

    async def _scene(self, interaction: Interaction) -> SceneChannel:
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise UserFacingError("Use this in a scene's channel.")
        config = await self.runtime.scene(channel.id)
        if config is None or not config.enabled:
            raise UserFacingError("There's no scene running in this channel.")
        return channel

    async def _report(self, interaction: Interaction, name: str, outcome: ReplyOutcome) -> None:
        ending = outcome.ending
        if ending is None:
            text = "The reply's message was deleted, so I dropped it."
        elif ending.note and not outcome.complete:
            text = ending.note
        else:
            stopped = " (stopped early)" if outcome.stopped is StopReason.PLAYER else ""
            text = f"✅ Done{stopped}: {name}'s reply is updated."
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="regenerate")
    @app_commands.guild_only()
    async def regenerate(self, interaction: Interaction) -> None:
        """Write the newest persona reply again, as a new alternative."""
        channel = await self._scene(interaction)
        record = await self.runtime.newest_reply(channel.id)
        await self.runtime.check_changeable(channel.id, record.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.runtime.regenerate(channel.id, record.id, user_id=interaction.user.id)
        await self._report(interaction, record.author_name, outcome)

    @app_commands.command(name="continue")
    @app_commands.guild_only()
    async def continue_(self, interaction: Interaction) -> None:
        """Let the newest persona reply carry on where it stopped."""
        channel = await self._scene(interaction)
        record = await self.runtime.newest_reply(channel.id)
        await self.runtime.check_changeable(channel.id, record.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.runtime.continue_reply(
            channel.id, record.id, user_id=interaction.user.id
        )
        await self._report(interaction, record.author_name, outcome)

    @app_commands.command(name="stop")
    @app_commands.guild_only()
    async def stop(self, interaction: Interaction) -> None:
        """Stop the persona reply being written in this channel; the text so far stays."""
        channel = await self._scene(interaction)
        if not self.runtime.stop(channel.id):
            raise UserFacingError("Nobody is speaking here right now.")
        await interaction.response.send_message("⏹️ Stopped; the text so far stays.", ephemeral=True)


async def setup(bot: RoleplayBot) -> None:
    """Load the Controls cog."""
    await bot.add_cog(Controls(bot))
