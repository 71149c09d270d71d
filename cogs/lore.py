"""The /lore commands: the scene's and the server's lorebooks, and personas' own books."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import CardError, parse_card
from bot.errors import UserFacingError
from bot.lore import (
    MAX_BOOK_BYTES,
    Format,
    Lorebook,
    LoreEntry,
    LoreError,
    decode,
    export,
    from_card_book,
    parse,
)
from bot.ui.lore_views import EntryModal, entry_text, listing, split_keys
from bot.ui.scene_views import Interaction, any_persona_choices, game_master_only

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

BookChoice = Literal["scene", "server"]
SCOPE_HELP = "scene: this channel's scene; server: every scene on this server"


@app_commands.guild_only()
class Lore(commands.GroupCog, group_name="lore", group_description="Lorebooks (World Info)."):
    """Game masters keep the world's lore; entries reach the model when their keys come up."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.runtime = bot.services.runtime
        super().__init__()

    @staticmethod
    def _owner(interaction: Interaction, scope: BookChoice) -> int:
        owner = interaction.channel_id if scope == "scene" else interaction.guild_id
        if owner is None:
            raise UserFacingError("Use this in a server channel.")
        return owner

    async def _book(self, interaction: Interaction, scope: BookChoice) -> Lorebook:
        return await self.runtime.lorebook(scope, self._owner(interaction, scope)) or Lorebook(
            name="Scene lore" if scope == "scene" else "Server lore"
        )

    @staticmethod
    def _entry(book: Lorebook, uid: int, scope: str) -> LoreEntry:
        entry = book.entry(uid)
        if entry is None:
            raise UserFacingError(f"The {scope} book has no entry `{uid}`; see `/lore list`.")
        return entry

    async def _save(self, interaction: Interaction, scope: BookChoice, book: Lorebook) -> None:
        await self.runtime.save_lorebook(scope, self._owner(interaction, scope), book)

    @app_commands.command(name="add")
    @app_commands.describe(
        scope=SCOPE_HELP,
        keys="Words that make the entry fire, comma-separated (names, places, items)",
        content="What the personas should know when it fires",
        secondary_keys="Optional: it fires only if one of these appears too",
        order="Insertion order: higher is more important (default 100)",
        constant="Always in the prompt, keys or not",
    )
    @game_master_only()
    async def add(
        self,
        interaction: Interaction,
        scope: BookChoice,
        keys: app_commands.Range[str, 1, 1000],
        content: app_commands.Range[str, 1, 4000],
        secondary_keys: app_commands.Range[str, 1, 1000] | None = None,
        order: app_commands.Range[int, -10000, 10000] = 100,
        constant: bool = False,
    ) -> None:
        """Add an entry to the scene's or the server's lorebook."""
        book = await self._book(interaction, scope)
        secondary = split_keys(secondary_keys)
        entry = LoreEntry(
            uid=book.next_uid(),
            keys=split_keys(keys),
            content=content.strip(),
            secondary_keys=secondary,
            selective=bool(secondary),
            order=order,
            constant=constant,
        )
        updated = _checked(dataclasses.replace(book, entries=(*book.entries, entry)))
        await self._save(interaction, scope, updated)
        await interaction.response.send_message(
            f"📖 Added to the {scope} lorebook:\n{entry_text(entry)}", ephemeral=True
        )

    @app_commands.command(name="edit")
    @app_commands.describe(scope=SCOPE_HELP, entry="The entry's number (see /lore list)")
    @game_master_only()
    async def edit(self, interaction: Interaction, scope: BookChoice, entry: int) -> None:
        """Edit an entry of the scene's or the server's lorebook in a form."""
        book = await self._book(interaction, scope)
        current = self._entry(book, entry, scope)

        async def save(submitted: Interaction, edited: LoreEntry) -> None:
            fresh = await self._book(submitted, scope)
            entries = tuple(edited if e.uid == edited.uid else e for e in fresh.entries)
            await self._save(
                submitted, scope, _checked(dataclasses.replace(fresh, entries=entries))
            )
            await submitted.response.send_message(
                f"📖 Saved:\n{entry_text(edited)}", ephemeral=True
            )

        await interaction.response.send_modal(EntryModal(current, save))

    @app_commands.command(name="remove")
    @app_commands.describe(scope=SCOPE_HELP, entry="The entry's number (see /lore list)")
    @game_master_only()
    async def remove(self, interaction: Interaction, scope: BookChoice, entry: int) -> None:
        """Remove an entry from the scene's or the server's lorebook."""
        book = await self._book(interaction, scope)
        gone = self._entry(book, entry, scope)
        kept = tuple(e for e in book.entries if e.uid != entry)
        await self._save(interaction, scope, dataclasses.replace(book, entries=kept))
        await interaction.response.send_message(
            f"📖 Removed `{gone.uid}` **{gone.title}** from the {scope} lorebook.", ephemeral=True
        )

    @app_commands.command(name="list")
    @app_commands.describe(scope="scene, server, or persona (with persona:)", persona="A persona")
    @app_commands.autocomplete(persona=any_persona_choices)
    async def list_entries(
        self,
        interaction: Interaction,
        scope: Literal["scene", "server", "persona"],
        persona: str | None = None,
    ) -> None:
        """List the entries of a lorebook."""
        book = await self._any_book(interaction, scope, persona)
        heading = f"📖 **{book.name or scope.title() + ' lore'}** — {len(book.entries)} entries"
        text = listing(list(book.entries), heading) if book.entries else f"{heading}: none yet."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show")
    @app_commands.describe(
        scope="scene, server, or persona (with persona:)",
        entry="The entry's number (see /lore list)",
        persona="A persona",
    )
    @app_commands.autocomplete(persona=any_persona_choices)
    async def show(
        self,
        interaction: Interaction,
        scope: Literal["scene", "server", "persona"],
        entry: int,
        persona: str | None = None,
    ) -> None:
        """Show one lorebook entry in full."""
        book = await self._any_book(interaction, scope, persona)
        await interaction.response.send_message(
            entry_text(self._entry(book, entry, scope)), ephemeral=True
        )

    @app_commands.command(name="import")
    @app_commands.describe(
        scope=SCOPE_HELP,
        file="A SillyTavern World Info JSON file, a card's character_book, or a card (JSON/PNG)",
    )
    @game_master_only()
    async def import_book(
        self, interaction: Interaction, scope: BookChoice, file: discord.Attachment
    ) -> None:
        """Replace the scene's or the server's lorebook with one from a file."""
        if file.size > MAX_BOOK_BYTES * 2:
            raise UserFacingError(
                f"{file.filename} is {file.size:,} bytes; that is too big for a lorebook. "
                "Nothing was imported."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            raw = await file.read()
        except discord.HTTPException as error:
            raise UserFacingError(f"Could not download {file.filename} ({error.status}).") from None
        try:
            book = _checked(parse(_book_data(raw, file.filename)))
        except LoreError as error:
            raise UserFacingError(f"{error} Nothing was imported.") from None
        await self._save(interaction, scope, book)
        await interaction.followup.send(
            f"📖 Imported {len(book.entries)} entries from {file.filename} into the {scope} "
            "lorebook (it replaced what was there).",
            ephemeral=True,
        )

    @app_commands.command(name="export")
    @app_commands.describe(
        scope="scene, server, or persona (with persona:)",
        format="world_info: SillyTavern's World Info file; card: a card's character_book",
        persona="A persona",
    )
    @app_commands.autocomplete(persona=any_persona_choices)
    async def export_book(
        self,
        interaction: Interaction,
        scope: Literal["scene", "server", "persona"],
        format: Format = "world_info",
        persona: str | None = None,
    ) -> None:
        """Export a lorebook as a file."""
        book = await self._any_book(interaction, scope, persona)
        data = json.dumps(export(book, format), ensure_ascii=False, indent=2).encode()
        name = f"{persona or scope}-lore-{format}.json"
        await interaction.response.send_message(
            f"📖 {len(book.entries)} entries.",
            file=discord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
        )

    async def _any_book(
        self, interaction: Interaction, scope: str, persona_id: str | None
    ) -> Lorebook:
        if scope != "persona":
            return await self._book(interaction, "scene" if scope == "scene" else "server")
        if not persona_id:
            raise UserFacingError("Name the persona whose book you want (`persona:`).")
        found = await self.bot.services.personas.get(interaction.guild_id, persona_id)
        if found is None:
            raise UserFacingError(f"There is no persona `{persona_id[:80]}` here.")
        raw = found.card.get("character_book")
        if not isinstance(raw, dict):
            return Lorebook(name=f"{found.name}'s lore")
        try:
            return from_card_book(raw)
        except LoreError as error:
            raise UserFacingError(f"{found.name}'s own book can't be read: {error}") from None


def _book_data(raw: bytes, filename: str) -> object:
    """The JSON of an uploaded book, or of the card inside a PNG."""
    if raw.startswith(b"\x89PNG"):
        try:
            return {"data": parse_card(raw, filename=filename).card}
        except CardError as error:
            raise LoreError(f"{filename}: {error}") from None
    return decode(raw, what=filename)


def _checked(book: Lorebook) -> Lorebook:
    """The book, once it reads back through the validator (a bad edit is refused whole)."""
    parse(export(book, "world_info" if book.source == "world_info" else "card"))
    return book


async def setup(bot: RoleplayBot) -> None:
    """Load the Lore cog."""
    await bot.add_cog(Lore(bot))
