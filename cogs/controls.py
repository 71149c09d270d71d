"""/regenerate, /continue and /stop: the reply buttons as commands, for keyboard players."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.budget import budget_refusal
from bot.errors import UserFacingError, describe_error
from bot.memory import MessageRecord
from bot.ui.scene_views import Interaction, SceneChannel
from bot.ui.streaming import StreamOutcome
from cogs.roleplay import Roleplay

if TYPE_CHECKING:
    from bot.bot import RoleplayBot


class Controls(commands.Cog):
    """Work on the newest persona reply of a scene without pressing its buttons."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.engine = bot.services.engine
        self.store = bot.services.store

    def _roleplay(self) -> Roleplay:
        cog = self.bot.get_cog("Roleplay")
        if not isinstance(cog, Roleplay):
            raise UserFacingError("Roleplay isn't running right now; ask an admin.")
        return cog

    async def _scene(self, interaction: Interaction) -> tuple[Roleplay, SceneChannel]:
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            raise UserFacingError("Use this in a scene's channel.")
        config = await self.engine.channel(channel.id)
        if config is None or not config.enabled:
            raise UserFacingError("There's no scene running in this channel.")
        return self._roleplay(), channel

    async def _newest_reply(self, channel_id: int) -> MessageRecord:
        reply_id = await self.engine.newest_reply_id(channel_id)
        record = None if reply_id is None else await self.store.get_message(reply_id)
        if record is None or record.persona_id is None:
            raise UserFacingError("There's no persona reply here to work on yet.")
        return record

    async def _prepare(
        self, interaction: Interaction
    ) -> tuple[Roleplay, SceneChannel, MessageRecord]:
        roleplay, channel = await self._scene(interaction)
        if channel.id in roleplay.streams:  # a turn that is only storing its reply is waited for
            raise UserFacingError(
                "A persona is speaking right now — wait for it to finish, or `/stop` it."
            )
        record = await self._newest_reply(channel.id)
        refusal = await budget_refusal(
            self.store, channel.guild.id, interaction.user.id, now=time.time()
        )
        if refusal is not None:
            raise UserFacingError(refusal)
        return roleplay, channel, record

    async def _report(
        self, interaction: Interaction, record: MessageRecord, outcome: StreamOutcome | None
    ) -> None:
        if outcome is None:
            text = f"{record.author_name} isn't available in this scene any more."
        elif outcome.error is not None:
            text = f"⚠️ {describe_error(outcome.error)}"
        elif outcome.deleted:
            text = "The reply's message was deleted, so I dropped it."
        else:
            stopped = " (stopped early)" if outcome.stopped else ""
            text = f"✅ Done{stopped}: {record.author_name}'s reply is updated."
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="regenerate")
    @app_commands.guild_only()
    async def regenerate(self, interaction: Interaction) -> None:
        """Write the newest persona reply again, as a new alternative."""
        roleplay, channel, record = await self._prepare(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await roleplay.regenerate(channel, record)
        await self._report(interaction, record, outcome)

    @app_commands.command(name="continue")
    @app_commands.guild_only()
    async def continue_(self, interaction: Interaction) -> None:
        """Let the newest persona reply carry on where it stopped."""
        roleplay, channel, record = await self._prepare(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await roleplay.continue_reply(channel, record)
        await self._report(interaction, record, outcome)

    @app_commands.command(name="stop")
    @app_commands.guild_only()
    async def stop(self, interaction: Interaction) -> None:
        """Stop the persona reply being written in this channel; the text so far stays."""
        roleplay, channel = await self._scene(interaction)
        roleplay.scheduler.cancel(channel.id)
        stream = roleplay.streams.get(channel.id)
        if stream is None:
            raise UserFacingError("Nobody is speaking here right now.")
        stream.stop()
        await interaction.response.send_message("⏹️ Stopped; the text so far stays.", ephemeral=True)


async def setup(bot: RoleplayBot) -> None:
    """Load the Controls cog."""
    await bot.add_cog(Controls(bot))
