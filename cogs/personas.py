"""The /persona commands: list, show, create, edit, delete, import and export (admins only)."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import (
    MAX_FILE_BYTES,
    CardError,
    ParsedCard,
    card_from_persona,
    export_json,
    export_png,
    is_valid_persona_id,
    parse_card,
    persona_from_card,
    slugify,
    split_avatar,
    with_avatar,
)
from bot.cards.limits import MAX_PERSONA_ID_CHARS, MAX_URL_CHARS
from bot.errors import UserFacingError
from bot.models import Persona
from bot.prompt import parse_example_dialogue
from bot.ui.persona_views import (
    FORM_LABELS,
    ConfirmView,
    PersonaFields,
    PersonaForm,
    card_problem,
    fields_of,
    persona_embed,
    persona_list_embed,
)

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

log = logging.getLogger(__name__)

SOURCE_NAMES = {"v1": "Character Card V1", "v2": "Character Card V2", "v3": "Character Card V3"}
ORIGIN_SHIPPED = "ships with the bot"
ORIGIN_OWN = "this server's own"
ORIGIN_OVERRIDE = "this server's version of a shipped persona"

Interaction = discord.Interaction["RoleplayBot"]


class NotAllowed(app_commands.CheckFailure):
    """Raised when someone without Manage Server reaches a persona command."""


def require_admin(interaction: discord.Interaction[Any]) -> None:
    """Refuse anyone who does not hold Manage Server here, now (roles can change any time)."""
    if interaction.guild is None:
        raise NotAllowed("Personas belong to a server; use this command in one.")
    if not interaction.permissions.manage_guild:
        raise NotAllowed("You need the **Manage Server** permission to manage personas.")


def check_avatar_url(url: str) -> str:
    """`url` trimmed, if it is an http(s) address a webhook can show."""
    url = url.strip()
    if not url.startswith(("https://", "http://")) or len(url) > MAX_URL_CHARS:
        raise UserFacingError(
            f"The avatar URL must start with https:// (or http://) and be at most "
            f"{MAX_URL_CHARS:,} characters; got {url[:80]!r}."
        )
    return url


def check_new_id(persona_id: str) -> str:
    """`persona_id` if it is a well-formed id, else a message saying what one looks like."""
    if not is_valid_persona_id(persona_id):
        raise UserFacingError(
            f"`{persona_id[:80]}` is not a valid persona id: use 1–{MAX_PERSONA_ID_CHARS} "
            f"lowercase letters, digits and single dashes, like `{slugify(persona_id)}`."
        )
    return persona_id


def check_free(
    available: Mapping[str, Persona], persona: Persona, *, replace: bool, hint: str
) -> None:
    """Refuse an id that is taken (unless replacing it) or a name another persona uses."""
    taken = available.get(persona.id)
    if taken is not None and not replace:
        raise UserFacingError(f"The id `{persona.id}` is already used by **{taken.name}**. {hint}")
    for other in available.values():
        if other.id != persona.id and other.name.casefold() == persona.name.casefold():
            raise UserFacingError(
                f"**{other.name}** (`{other.id}`) already has that name; personas need "
                "different names so players can address them."
            )


def origin_of(persona_id: str, shipped: Mapping[str, Persona], own: set[str]) -> str:
    """Where a persona of this server comes from, in words."""
    if persona_id not in own:
        return ORIGIN_SHIPPED
    return ORIGIN_OVERRIDE if persona_id in shipped else ORIGIN_OWN


async def persona_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Persona ids of this server whose id or name contains what was typed."""
    if interaction.guild_id is None or not interaction.permissions.manage_guild:
        return []
    personas = await interaction.client.services.personas.for_guild(interaction.guild_id)
    needle = current.casefold().strip()
    matches = [p for p in personas.values() if needle in p.id or needle in p.name.casefold()]
    matches.sort(key=lambda p: (not p.id.startswith(needle), p.name.casefold()))
    return [app_commands.Choice(name=f"{p.name} ({p.id})"[:100], value=p.id) for p in matches[:25]]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Personas(commands.GroupCog, group_name="persona"):
    """Manage the characters this server can cast (Manage Server)."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.store = bot.services.store
        self.catalog = bot.services.personas
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Check Manage Server at run time too: the client only applies the default."""
        require_admin(interaction)
        return True

    async def _persona(self, guild_id: int, persona_id: str) -> Persona:
        persona = await self.catalog.get(guild_id, persona_id)
        if persona is None:
            raise UserFacingError(
                f"There is no persona `{persona_id[:80]}` here; `/persona list` shows them all."
            )
        return persona

    async def _save(self, guild_id: int, persona_id: str, card: Mapping[str, Any]) -> None:
        await self.store.save_persona(guild_id, persona_id, card)
        self.catalog.invalidate(guild_id)

    async def _origin(self, guild_id: int, persona_id: str) -> str:
        own = {p.persona_id for p in await self.store.list_personas(guild_id)}
        return origin_of(persona_id, self.catalog.shipped, own)

    # ---- browsing ----------------------------------------------------------------------------

    @app_commands.command(name="list")
    async def list_personas(self, interaction: Interaction) -> None:
        """List every persona this server can cast, with its id."""
        assert interaction.guild_id is not None
        personas = await self.catalog.for_guild(interaction.guild_id)
        own = {p.persona_id for p in await self.store.list_personas(interaction.guild_id)}
        rows = [
            (p, origin_of(p.id, self.catalog.shipped, own))
            for p in sorted(personas.values(), key=lambda p: p.name.casefold())
        ]
        await interaction.response.send_message(embed=persona_list_embed(rows), ephemeral=True)

    @app_commands.command(name="show")
    @app_commands.describe(persona="The persona to show")
    @app_commands.autocomplete(persona=persona_choices)
    async def show(self, interaction: Interaction, persona: str) -> None:
        """Show a persona's card: avatar, description, scenario, greeting and example lines."""
        assert interaction.guild_id is not None
        found = await self._persona(interaction.guild_id, persona)
        stored = await self.store.get_persona(interaction.guild_id, found.id)
        avatar = split_avatar(stored.card)[1] if stored is not None else None
        origin = await self._origin(interaction.guild_id, found.id)
        kwargs: dict[str, Any] = {}
        thumbnail = found.avatar_url
        if thumbnail is None and avatar is not None:
            thumbnail = "attachment://avatar.png"
            kwargs["file"] = discord.File(io.BytesIO(avatar), filename="avatar.png")
        embed = persona_embed(found, origin=origin, thumbnail=thumbnail)
        await interaction.response.send_message(embed=embed, ephemeral=True, **kwargs)

    # ---- writing by hand ---------------------------------------------------------------------

    @app_commands.command(name="create")
    @app_commands.describe(
        persona_id="Id to give it (default: made from the name), e.g. tavern-keeper",
        avatar_url="An https:// image URL for the persona's avatar",
    )
    async def create(
        self,
        interaction: Interaction,
        persona_id: app_commands.Range[str, 1, MAX_PERSONA_ID_CHARS] | None = None,
        avatar_url: str | None = None,
    ) -> None:
        """Write a new persona in a form."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        wanted_id = check_new_id(persona_id.strip()) if persona_id else None
        url = check_avatar_url(avatar_url) if avatar_url else None
        if wanted_id is not None:
            taken = await self.catalog.get(guild_id, wanted_id)
            if taken is not None:
                raise UserFacingError(
                    f"The id `{wanted_id}` is already used by **{taken.name}**; "
                    f"change it with `/persona edit` or pick another id."
                )

        async def done(submitted: Interaction, fields: PersonaFields) -> None:
            require_admin(submitted)
            data: dict[str, Any] = {
                "name": fields.name,
                "description": fields.description,
                "scenario": fields.scenario,
                "first_mes": fields.first_message,
                "mes_example": fields.example_dialogue,
            }
            if url is not None:
                data["extensions"] = {"ensemble": {"avatar_url": url}}
            card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}
            try:
                made = persona_from_card(card, persona_id=wanted_id, source="the form")
            except CardError as error:
                raise card_problem(error, FORM_LABELS) from None
            available = await self.catalog.for_guild(guild_id)
            check_free(
                available,
                made,
                replace=False,
                hint="Change that persona with `/persona edit`, or set another `persona_id`.",
            )
            await self._save(guild_id, made.id, made.card)
            await submitted.response.send_message(
                f"Created **{made.name}** (`{made.id}`). Cast it with the scene commands; "
                "`/persona show` previews it.",
                ephemeral=True,
            )

        await interaction.response.send_modal(
            PersonaForm(title="New persona", initial=None, on_done=done)
        )

    @app_commands.command(name="edit")
    @app_commands.describe(
        persona="The persona to edit (editing a shipped one makes this server's own version)",
        avatar_url="A new https:// image URL for its avatar (leave out to keep the current one)",
    )
    @app_commands.autocomplete(persona=persona_choices)
    async def edit(
        self, interaction: Interaction, persona: str, avatar_url: str | None = None
    ) -> None:
        """Edit a persona's name, description, scenario, greeting and examples in a form."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        found = await self._persona(guild_id, persona)
        initial = fields_of(found)
        url = check_avatar_url(avatar_url) if avatar_url else None

        async def done(submitted: Interaction, fields: PersonaFields) -> None:
            require_admin(submitted)
            current = await self.catalog.get(guild_id, found.id)
            if current is None:
                raise UserFacingError(f"`{found.id}` was deleted while the form was open.")
            changed = dataclasses.replace(
                current,
                name=fields.name,
                description=fields.description,
                scenario=fields.scenario,
                first_message=fields.first_message,
                example_dialogue=fields.example_dialogue,
                avatar_url=url or current.avatar_url,
            )
            try:
                card = card_from_persona(changed)
                persona_from_card(card, persona_id=changed.id, source="the form")
            except CardError as error:
                raise card_problem(error, FORM_LABELS) from None
            check_free(await self.catalog.for_guild(guild_id), changed, replace=True, hint="")
            await self._save(guild_id, changed.id, card)
            note = "" if found.id not in self.catalog.shipped else " (this server's version)"
            await submitted.response.send_message(
                f"Saved **{changed.name}** (`{changed.id}`){note}.", ephemeral=True
            )

        await interaction.response.send_modal(
            PersonaForm(title=f"Edit {found.name}", initial=initial, on_done=done)
        )

    @app_commands.command(name="delete")
    @app_commands.describe(persona="The persona to delete from this server")
    @app_commands.autocomplete(persona=persona_choices)
    async def delete(self, interaction: Interaction, persona: str) -> None:
        """Delete one of this server's personas (asks for confirmation)."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        stored = await self.store.get_persona(guild_id, persona)
        shipped = self.catalog.shipped.get(persona)
        if stored is None:
            if shipped is not None:
                raise UserFacingError(
                    f"**{shipped.name}** (`{persona}`) ships with the bot and cannot be deleted. "
                    "Leave it out of your scenes' casts, or `/persona edit` it to make this "
                    "server's own version."
                )
            raise UserFacingError(
                f"There is no persona `{persona[:80]}` here; `/persona list` shows them all."
            )
        name = str(stored.card.get("data", {}).get("name", persona))
        warning = f"Delete **{name}** (`{persona}`) from this server? This cannot be undone."
        if shipped is not None:
            warning += f" The shipped **{shipped.name}** comes back in its place."
        casts = await self._casting(guild_id, persona)
        if casts:
            warning += f"\nIt is in the cast of {casts}."

        async def confirmed(pressed: Interaction) -> None:
            removed = await self.store.delete_persona(guild_id, persona)
            self.catalog.invalidate(guild_id)
            if not removed:
                text = f"`{persona}` was already gone."
            elif shipped is not None:
                text = f"Deleted this server's version of `{persona}`; the shipped one is back."
            else:
                text = f"Deleted **{name}** (`{persona}`)."
            await pressed.response.edit_message(content=text, view=None)

        view = ConfirmView(
            owner_id=interaction.user.id,
            confirm_label="Delete",
            on_confirm=confirmed,
            check=require_admin,
        )
        await interaction.response.send_message(warning, view=view, ephemeral=True)
        view.message = await interaction.original_response()

    async def _casting(self, guild_id: int, persona_id: str) -> str:
        channels = await self.store.list_enabled_channels(guild_id)
        return ", ".join(f"<#{c.channel_id}>" for c in channels if persona_id in c.cast)

    # ---- files -------------------------------------------------------------------------------

    @app_commands.command(name="import")
    @app_commands.describe(
        file="A character card: PNG or JSON (Character Card V1, V2 or V3)",
        persona_id="Id to give it (default: made from the card's name)",
        replace="Overwrite a persona with the same id (default: no)",
    )
    async def import_card(
        self,
        interaction: Interaction,
        file: discord.Attachment,
        persona_id: app_commands.Range[str, 1, MAX_PERSONA_ID_CHARS] | None = None,
        replace: bool = False,
    ) -> None:
        """Import a character card from a PNG or JSON file."""
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        if file.size > MAX_FILE_BYTES:
            raise UserFacingError(
                f"{file.filename} is {file.size:,} bytes; a card file may be at most "
                f"{MAX_FILE_BYTES:,} bytes. Nothing was imported."
            )
        wanted_id = check_new_id(persona_id.strip()) if persona_id else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as error:
            raise UserFacingError(
                f"Could not download {file.filename} from Discord ({error.status}); try again."
            ) from None
        try:
            parsed = parse_card(data, filename=file.filename, persona_id=wanted_id)
        except CardError as error:
            raise UserFacingError(f"Could not import {error}. Nothing was changed.") from None
        made = parsed.persona
        check_free(
            await self.catalog.for_guild(guild_id),
            made,
            replace=replace,
            hint="Import again with `replace: True` to overwrite it, or set another `persona_id`.",
        )
        await self._save(guild_id, made.id, with_avatar(parsed.card, parsed.avatar_png))
        await interaction.followup.send(import_summary(parsed, file.filename), ephemeral=True)

    @app_commands.command(name="export")
    @app_commands.describe(
        persona="The persona to export",
        format="json: the card as text; png: an image with the card inside (default: png)",
    )
    @app_commands.autocomplete(persona=persona_choices)
    async def export(
        self, interaction: Interaction, persona: str, format: Literal["png", "json"] = "png"
    ) -> None:
        """Export a persona as a Character Card V2 file (PNG or JSON)."""
        assert interaction.guild_id is not None
        found = await self._persona(interaction.guild_id, persona)
        await interaction.response.defer(ephemeral=True, thinking=True)
        stored = await self.store.get_persona(interaction.guild_id, found.id)
        avatar = split_avatar(stored.card)[1] if stored is not None else None
        clean = dataclasses.replace(found, card=split_avatar(found.card)[0])
        try:
            data = export_png(clean, avatar) if format == "png" else export_json(clean)
        except CardError as error:
            raise UserFacingError(f"Could not export {error}.") from None
        filename = f"{found.id}.{format}"
        await interaction.followup.send(
            f"**{found.name}** as a Character Card V2 ({format.upper()}).",
            file=discord.File(io.BytesIO(data), filename=filename),
            ephemeral=True,
        )

    @app_commands.command(name="rating")
    @app_commands.describe(
        persona="The persona to rate",
        adult="For adults only (true), for everyone (false); leave out to follow its card's tags",
    )
    @app_commands.autocomplete(persona=persona_choices)
    async def rating(
        self, interaction: Interaction, persona: str, adult: bool | None = None
    ) -> None:
        """Mark a persona for adults only (age-restricted channels) or for everyone."""
        assert interaction.guild_id is not None
        found = await self._persona(interaction.guild_id, persona)
        runtime = self.bot.services.runtime
        await runtime.set_persona_adult(interaction.guild_id, found.id, adult)
        is_adult, mark = await runtime.persona_adult(interaction.guild_id, found)
        why = "as marked by an admin" if mark is not None else "from its card's tags"
        where = (
            "It speaks only in age-restricted channels; scenes elsewhere that seat it pause."
            if is_adult
            else "It may speak in any channel."
        )
        await interaction.response.send_message(
            f"**{found.name}** is {'for adults' if is_adult else 'for everyone'} ({why}). {where}",
            ephemeral=True,
        )


def import_summary(parsed: ParsedCard, filename: str) -> str:
    """What an import brought in, in one message."""
    persona = parsed.persona
    kind = (
        "a hand-written TOML card"
        if parsed.source_version == "toml"
        else (
            f"a {SOURCE_NAMES[parsed.source_version]} "
            f"{'PNG' if parsed.avatar_png is not None else 'JSON file'}"
        )
    )
    kept: list[str] = []
    examples = len(parse_example_dialogue(persona.example_dialogue, char_name=persona.name))
    if examples:
        kept.append(f"{examples} example exchange{'s' if examples > 1 else ''}")
    if persona.alternate_greetings:
        kept.append(f"{len(persona.alternate_greetings)} alternate greetings")
    extensions = sorted(parsed.card["data"].get("extensions") or {})
    if extensions:
        kept.append("extensions: " + ", ".join(extensions))
    if parsed.avatar_png is not None:
        kept.append("the avatar image")
    text = f"Imported **{persona.name}** (`{persona.id}`) from {kind} ({filename})."
    if kept:
        text += " Kept " + "; ".join(kept) + "."
    return text


async def setup(bot: RoleplayBot) -> None:
    """Load the Personas cog."""
    await bot.add_cog(Personas(bot))
