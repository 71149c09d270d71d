"""/roll: dice in the notation tabletop players use, posted for everyone and remembered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from bot.ui.convert import display_name
from bot.ui.scene_views import Interaction
from bot.ui.targets import NO_MENTIONS

if TYPE_CHECKING:
    from bot.bot import RoleplayBot


class Dice(commands.Cog):
    """Roll dice; in a scene the roll becomes part of the story."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.runtime = bot.services.runtime

    @app_commands.command(name="roll")
    @app_commands.describe(
        expression="Dice to roll, e.g. d20, 2d6+3, 4d6kh3, d20 adv or d20 dis",
        reason="What the roll is for, e.g. Stealth",
    )
    @app_commands.guild_only()
    async def roll(
        self,
        interaction: Interaction,
        expression: app_commands.Range[str, 1, 100],
        reason: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Roll dice for everyone to see; in a scene, the personas see the result too."""
        made, why = self.runtime.roll_dice(expression, reason)  # a bad roll: a private error
        name = display_name(interaction.user)
        purpose = f" for **{why}**" if why else ""
        await interaction.response.send_message(
            f"🎲 **{name}** rolled{purpose}: {made.breakdown}", allowed_mentions=NO_MENTIONS
        )
        message = await interaction.original_response()
        if interaction.guild_id is not None and interaction.channel_id is not None:
            await self.runtime.roll_shown(
                interaction.channel_id,
                interaction.guild_id,
                interaction.user.id,
                name,
                made.sentence(name, why),
                message.id,
            )


async def setup(bot: RoleplayBot) -> None:
    """Load the Dice cog."""
    await bot.add_cog(Dice(bot))
