"""The /me commands: each player's character sheet, and forgetting everything about them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.models import PlayerSheet
from bot.ui.persona_views import ConfirmView, sheet_embed

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

log = logging.getLogger(__name__)

MAX_SHEET_NAME = 64
MAX_SHEET_DESCRIPTION = 2000
"""Every active player's sheet goes into each prompt, so sheets stay short."""
MAX_AVATAR_URL = 2048

SCOPE_CHOICES = [
    app_commands.Choice(name="everywhere (all servers)", value="global"),
    app_commands.Choice(name="this server only", value="server"),
]

Interaction = discord.Interaction["RoleplayBot"]


def build_sheet(user_id: int, name: str, description: str, avatar_url: str | None) -> PlayerSheet:
    """A validated sheet; raises `UserFacingError` naming the part that is wrong."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_SHEET_NAME:
        raise UserFacingError(
            f"Your character's name must be 1–{MAX_SHEET_NAME} characters; it is {len(name):,}."
        )
    if not name.isprintable():
        raise UserFacingError("Your character's name must be one line without control characters.")
    description = description.strip()
    if len(description) > MAX_SHEET_DESCRIPTION:
        raise UserFacingError(
            f"The description is {len(description):,} characters; the limit is "
            f"{MAX_SHEET_DESCRIPTION:,}. Keep it to what the personas should know at a glance."
        )
    url = avatar_url.strip() if avatar_url else None
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_AVATAR_URL:
            raise UserFacingError(
                f"The avatar must be an http:// or https:// image address of at most "
                f"{MAX_AVATAR_URL:,} characters; got {url[:80]!r}."
            )
    return PlayerSheet(user_id=user_id, name=name, description=description, avatar_url=url or None)


def scope_guild(interaction: discord.Interaction[Any], where: str) -> int | None:
    """The guild id a sheet is kept under (None = everywhere), refusing "server" in DMs."""
    if where != "server":
        return None
    if interaction.guild_id is None:
        raise UserFacingError(
            "There is no server here; use `where: everywhere` in direct messages."
        )
    return interaction.guild_id


def counted(number: int, noun: str) -> str:
    """The count with its noun, singular or plural: 1 message, 3 messages."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def scope_words(guild_id: int | None) -> str:
    """How a scope reads in a reply."""
    return "everywhere" if guild_id is None else "this server only"


def forgotten_text(erased: dict[str, int]) -> str:
    """The answer to a finished `/me forget`, from the counts `Store.forget_user` returns."""
    text = (
        f"Done. Erased {counted(erased.get('messages', 0), 'message')}, "
        f"{counted(erased.get('sheets', 0), 'sheet')} and "
        f"{counted(erased.get('pins', 0), 'pin')}, and unlinked you from usage records."
    )
    versions, scenes = erased.get("summaries", 0), erased.get("summary_channels", 0)
    if versions:
        text += (
            " Also erased the summaries written from your messages: "
            f"{counted(versions, 'summary version')} in {counted(scenes, 'scene')}, game "
            "masters' edits included. Those scenes will summarise their remaining messages "
            "again, without yours."
        )
    else:
        text += " No scene summary had been written from your messages."
    return text + " Personas' earlier replies to you stay in the scenes."


class Players(commands.GroupCog, group_name="me"):
    """Your own character: the sheet the personas know you by."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.store = bot.services.store
        self.runtime = bot.services.runtime
        super().__init__()

    @app_commands.command(name="set")
    @app_commands.describe(
        name="Your character's name, as the personas will call you",
        description="Who your character is: looks, manner, what others would know",
        avatar_url="An https:// image address for your character (optional)",
        where="Use this sheet everywhere (default) or only in this server",
    )
    @app_commands.choices(where=SCOPE_CHOICES)
    async def set_sheet(
        self,
        interaction: Interaction,
        name: app_commands.Range[str, 1, MAX_SHEET_NAME],
        description: app_commands.Range[str, 0, MAX_SHEET_DESCRIPTION],
        avatar_url: str | None = None,
        where: str = "global",
    ) -> None:
        """Set your character sheet: the name and description the personas know you by."""
        guild_id = scope_guild(interaction, where)
        sheet = build_sheet(interaction.user.id, name, description, avatar_url)
        await self.runtime.save_sheet(sheet, guild_id)
        await interaction.response.send_message(
            f"Saved your sheet ({scope_words(guild_id)}).",
            embed=sheet_embed(sheet, scope=scope_words(guild_id)),
            ephemeral=True,
        )

    @app_commands.command(name="show")
    async def show(self, interaction: Interaction) -> None:
        """Show the character sheet the personas use for you here."""
        user_id = interaction.user.id
        here = await self.store.get_sheet(user_id, interaction.guild_id)
        if here is None:
            await interaction.response.send_message(
                "You have no character sheet yet, so personas know you by your display name. "
                "Create one with `/me set`.",
                ephemeral=True,
            )
            return
        everywhere = await self.store.get_sheet(user_id, None)
        scope = "everywhere" if here == everywhere else "this server only"
        text = "The personas know you as:"
        if scope != "everywhere" and everywhere is not None:
            text += f" (elsewhere you are **{everywhere.name}**)"
        await interaction.response.send_message(
            text, embed=sheet_embed(here, scope=scope), ephemeral=True
        )

    @app_commands.command(name="clear")
    @app_commands.describe(where="Clear your sheet for everywhere (default) or this server only")
    @app_commands.choices(where=SCOPE_CHOICES)
    async def clear(self, interaction: Interaction, where: str = "global") -> None:
        """Remove your character sheet; your messages stay."""
        guild_id = scope_guild(interaction, where)
        user_id = interaction.user.id
        if not await self.runtime.clear_sheet(user_id, guild_id):
            hint = ""
            server_only = guild_id is None and interaction.guild_id is not None
            if server_only and await self.store.get_sheet(user_id, interaction.guild_id):
                hint = " You do have one for this server: use `where: this server only`."
            raise UserFacingError(f"You have no sheet {scope_words(guild_id)}.{hint}")
        await interaction.response.send_message(
            f"Cleared your sheet ({scope_words(guild_id)}).", ephemeral=True
        )

    @app_commands.command(name="forget")
    async def forget(self, interaction: Interaction) -> None:
        """Delete everything Ensemble stored about you, in every server (asks first)."""
        user_id = interaction.user.id

        async def confirmed(pressed: Interaction) -> None:
            await pressed.response.edit_message(content="Erasing…", view=None)
            erased = await self.runtime.forget_player(user_id)
            await pressed.edit_original_response(content=forgotten_text(erased))

        view = ConfirmView(owner_id=user_id, confirm_label="Forget me", on_confirm=confirmed)
        await interaction.response.send_message(
            "This erases every message of yours that Ensemble stored, your character sheets "
            "and your pins, in every server, for good. Scene summaries written from your "
            "messages are erased too, every version, and written again from the messages that "
            "remain, without yours; a game master's edits of those summaries are lost. Continue?",
            view=view,
            ephemeral=True,
        )
        view.message = await interaction.original_response()


async def setup(bot: RoleplayBot) -> None:
    """Load the Players cog."""
    await bot.add_cog(Players(bot))
