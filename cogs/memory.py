"""The /memory commands (summary and pins) and /rewind, which forgets the end of a scene."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.reports import summary_line
from bot.ui.scene_views import Interaction, TextModal, game_master_only

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

MAX_PINS = 20
SUMMARY_FORM_LIMIT = 4000
EMBED_TEXT_LIMIT = 4000
MESSAGE_LINK = re.compile(
    r"https?://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(?:\d+|@me)/(\d+)/(\d+)"
)


def message_id_from(reference: str, channel_id: int) -> int:
    """The message id in a message link or a bare id; the link must point into this channel."""
    reference = reference.strip()
    link = MESSAGE_LINK.search(reference)
    if link is not None:
        if int(link[1]) != channel_id:
            raise UserFacingError(
                "That message is in another channel — use `/rewind` in the scene's own channel."
            )
        return int(link[2])
    if reference.isdigit():
        return int(reference)
    raise UserFacingError(
        "Give a message link (right-click a message → Copy Message Link) or a message id."
    )


def _channel_id(interaction: Interaction) -> int:
    if interaction.channel_id is None:
        raise UserFacingError("Use this in a scene's channel.")
    return interaction.channel_id


@app_commands.guild_only()
class Memory(commands.GroupCog, group_name="memory", group_description="A scene's memory."):
    """Read and steer what a channel's personas remember: the summary and pinned facts."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.runtime = bot.services.runtime
        self.store = bot.services.store
        super().__init__()

    async def _configured(self, interaction: Interaction) -> int:
        channel_id = _channel_id(interaction)
        if await self.runtime.scene(channel_id) is None:
            raise UserFacingError(
                "Roleplay was never set up in this channel — start a scene with `/scene start`."
            )
        return channel_id

    @app_commands.command(name="show")
    async def show(self, interaction: Interaction) -> None:
        """Show the running summary of this scene and its pinned facts."""
        channel_id = await self._configured(interaction)
        summary = await self.store.get_summary(channel_id)
        pins = await self.store.list_pins(channel_id)
        embed = discord.Embed(title="📝 What this scene remembers")
        if summary is None:
            embed.description = "No summary yet: the personas see the recent messages only."
        else:
            text = summary.text
            if len(text) > EMBED_TEXT_LIMIT:
                text = text[: EMBED_TEXT_LIMIT - 1] + "…"
            embed.description = text
            embed.add_field(name="Summary", value=summary_line(summary))
        lines = [f"`{pin.id}` {pin.text}" for pin in pins]
        pinned = "\n".join(lines) if lines else "none — add one with `/memory pin`"
        if len(pinned) > 1024:
            pinned = pinned[:1023] + "…"
        embed.add_field(name=f"Pinned facts ({len(pins)})", value=pinned, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="edit")
    @app_commands.describe(text="The new summary; leave empty to edit the current one in a form")
    @game_master_only()
    async def edit(
        self, interaction: Interaction, text: app_commands.Range[str, 1, 6000] | None = None
    ) -> None:
        """Rewrite the running summary the personas read before the recent messages."""
        channel_id = await self._configured(interaction)
        if text is not None:
            await self._save_summary(interaction, channel_id, text)
            return
        current = await self.store.get_summary(channel_id)
        default = current.text if current else ""
        if len(default) > SUMMARY_FORM_LIMIT:
            raise UserFacingError(
                "The summary is too long for the form; pass the new text with `/memory edit text:`."
            )

        async def save(submitted: Interaction, value: str) -> None:
            await self._save_summary(submitted, channel_id, value)

        modal = TextModal(
            title="Edit the scene summary",
            label="Summary",
            default=default,
            on_text=save,
            max_length=SUMMARY_FORM_LIMIT,
        )
        await interaction.response.send_modal(modal)

    async def _save_summary(self, interaction: Interaction, channel_id: int, text: str) -> None:
        text = text.strip()
        if not text:
            raise UserFacingError("A summary can't be empty; `/memory rollback` removes one.")
        saved = await self.runtime.save_summary(channel_id, text, interaction.user.id)
        await interaction.response.send_message(
            f"📝 Summary saved (version {saved.version}); the next reply reads it.", ephemeral=True
        )

    @app_commands.command(name="rollback")
    @game_master_only()
    async def rollback(self, interaction: Interaction) -> None:
        """Throw away the current summary version and go back to the one before."""
        channel_id = await self._configured(interaction)
        if await self.store.get_summary(channel_id) is None:
            raise UserFacingError("There's no summary to roll back.")
        previous = await self.runtime.rollback_summary(channel_id)
        if previous is None:
            text = "↩️ Summary removed; there was no earlier version."
        else:
            text = f"↩️ Back to summary version {previous.version}."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="pin")
    @app_commands.describe(text="A fact every reply in this scene should keep in mind")
    @game_master_only()
    async def pin(self, interaction: Interaction, text: app_commands.Range[str, 1, 300]) -> None:
        """Pin a fact that is always kept in this scene's prompt."""
        channel_id = await self._configured(interaction)
        if len(await self.store.list_pins(channel_id)) >= MAX_PINS:
            raise UserFacingError(f"A scene keeps at most {MAX_PINS} pins; unpin one first.")
        pin_id = await self.runtime.add_pin(channel_id, text.strip(), interaction.user.id)
        await interaction.response.send_message(
            f"📌 Pinned as `{pin_id}`; every reply here keeps it in mind.", ephemeral=True
        )

    @app_commands.command(name="unpin")
    @app_commands.describe(pin="The pinned fact to remove")
    @game_master_only()
    async def unpin(self, interaction: Interaction, pin: int) -> None:
        """Remove a pinned fact from this scene's prompt."""
        channel_id = await self._configured(interaction)
        if not await self.runtime.remove_pin(channel_id, pin):
            raise UserFacingError(f"This scene has no pin `{pin}`; see `/memory show`.")
        await interaction.response.send_message(f"📌 Pin `{pin}` removed.", ephemeral=True)

    @app_commands.command(name="recall")
    @app_commands.describe(query="Names or words to look for in the scene's older memory")
    @game_master_only()
    async def recall(
        self, interaction: Interaction, query: app_commands.Range[str, 1, 200]
    ) -> None:
        """Search the scene's older memory: what a persona would remember about it."""
        channel_id = await self._configured(interaction)
        hits = await self.runtime.recall(channel_id, query)
        if not hits:
            await interaction.response.send_message(
                "🧠 Nothing older than the recent messages matches that.", ephemeral=True
            )
            return
        lines = [f"🧠 What the scene's older memory holds about “{query}”:"]
        for hit in hits:
            who = "earlier summary" if hit.kind == "summary" else hit.author_name
            text = hit.text if len(hit.text) <= 300 else hit.text[:299] + "…"
            lines.append(f"- **{who}** <t:{int(hit.created_at)}:R>: {text}")
        await interaction.response.send_message("\n".join(lines)[:2000], ephemeral=True)

    @unpin.autocomplete("pin")
    async def _pin_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.channel_id is None:
            return []
        needle = current.casefold()
        pins = await self.store.list_pins(interaction.channel_id)
        return [
            app_commands.Choice(name=f"{pin.id}: {pin.text}"[:100], value=pin.id)
            for pin in pins
            if needle in pin.text.casefold() or needle in str(pin.id)
        ][:25]


class Rewind(commands.Cog):
    """Forget everything after a chosen message, by command or from a message's menu."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.runtime = bot.services.runtime
        self.store = bot.services.store
        self.menu = app_commands.ContextMenu(name="Rewind to here", callback=self.rewind_here)

    async def cog_load(self) -> None:
        """Register the message menu command (menus can't be declared inside a cog)."""
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Unregister the message menu command."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="rewind")
    @app_commands.describe(message="Link or id of the last message to keep")
    @app_commands.guild_only()
    @game_master_only()
    async def rewind(self, interaction: Interaction, message: str) -> None:
        """Forget everything in this scene after a chosen message."""
        channel_id = _channel_id(interaction)
        await self._rewind(interaction, channel_id, message_id_from(message, channel_id))

    @app_commands.guild_only()
    @game_master_only()
    async def rewind_here(self, interaction: Interaction, message: discord.Message) -> None:
        """Forget everything in this scene after this message."""
        await self._rewind(interaction, message.channel.id, message.id)

    async def _rewind(self, interaction: Interaction, channel_id: int, message_id: int) -> None:
        if await self.runtime.scene(channel_id) is None:
            raise UserFacingError("Roleplay was never set up in this channel; nothing to rewind.")
        target = await self.store.get_by_discord_id(message_id)
        if target is None or target.channel_id != channel_id:
            raise UserFacingError(
                "That message isn't in this scene's memory, so I can't rewind to it."
            )
        # Waiting for a reply in progress to stop can outlast Discord's 3 seconds.
        await interaction.response.defer(thinking=True)
        forgotten = await self.runtime.rewind(channel_id, message_id)
        guild_id = interaction.guild_id or "@me"
        link = f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"
        await interaction.followup.send(
            f"⏪ The scene was rewound to {link}: {forgotten} later message(s) are forgotten. "
            "They stay visible here; the personas won't remember them."
        )


async def setup(bot: RoleplayBot) -> None:
    """Load the Memory and Rewind cogs."""
    await bot.add_cog(Memory(bot))
    await bot.add_cog(Rewind(bot))
