"""Discord pieces of the /persona and /me commands: forms, embeds and a confirm button pair."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.bot import report_failure
from bot.cards import CardError
from bot.cards.limits import FIELD_CHAR_LIMITS, MAX_NAME_CHARS
from bot.errors import UserFacingError
from bot.models import Persona, PlayerSheet
from bot.prompt import parse_example_dialogue

log = logging.getLogger(__name__)

MODAL_INPUT_CHARS = 4000
"""Discord's limit for one text input of a modal (and for its prefilled value)."""

EMBED_COLOUR = discord.Colour.blurple()


def card_problem(error: CardError, labels: Mapping[str, str] | None = None) -> UserFacingError:
    """A card error as a message; `labels` renames card fields to the form's labels."""
    if error.field is None:
        return UserFacingError(f"{error.source}: {error.reason}")
    field = (labels or {}).get(error.field, f"field '{error.field}'")
    return UserFacingError(f"{field}: {error.reason}")


# ---- the persona form ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonaFields:
    """The five parts of a persona a form can hold (Discord allows five inputs per modal)."""

    name: str = ""
    description: str = ""
    scenario: str = ""
    first_message: str = ""
    example_dialogue: str = ""


FORM_LABELS: dict[str, str] = {
    "name": "Name",
    "description": "Description",
    "scenario": "Scenario",
    "first_mes": "Greeting",
    "mes_example": "Example dialogue",
}
"""Card field name -> the label of its form input, so errors name what the admin typed into."""

_FORM_INPUTS: tuple[tuple[str, str, str, str], ...] = (
    # (attribute, card field, label description, placeholder)
    ("name", "name", "Display name, one line.", "Marta Greyhollow"),
    ("description", "description", "Who the character is. {{char}} = the persona.", ""),
    ("scenario", "scenario", "The situation the character expects.", ""),
    ("first_message", "first_mes", "Posted when the persona joins a scene.", ""),
    (
        "example_dialogue",
        "mes_example",
        "<START> blocks of {{user}}: and {{char}}: lines.",
        "<START>\n{{user}}: Hello!\n{{char}}: *waves* Well met.",
    ),
)


def form_limit(card_field: str) -> int:
    """How many characters a form input for `card_field` accepts."""
    card_limit = MAX_NAME_CHARS if card_field == "name" else FIELD_CHAR_LIMITS[card_field]
    return min(card_limit, MODAL_INPUT_CHARS)


def fields_of(persona: Persona) -> PersonaFields:
    """The form's view of a persona; raises `UserFacingError` if a part is too long for it."""
    fields = PersonaFields(
        name=persona.name,
        description=persona.description,
        scenario=persona.scenario,
        first_message=persona.first_message,
        example_dialogue=persona.example_dialogue,
    )
    for attr, card_field, _, _ in _FORM_INPUTS:
        value: str = getattr(fields, attr)
        if len(value) > MODAL_INPUT_CHARS:
            raise UserFacingError(
                f"The {FORM_LABELS[card_field].lower()} of **{persona.name}** is "
                f"{len(value):,} characters, but a Discord form holds at most "
                f"{MODAL_INPUT_CHARS:,}. Use `/persona export`, edit the card file, and "
                "`/persona import` it with `replace: True`."
            )
    return fields


SubmitHandler = Callable[[discord.Interaction[Any], PersonaFields], Awaitable[None]]


class PersonaForm(discord.ui.Modal):
    """A modal with a persona's name, description, scenario, greeting and example dialogue."""

    def __init__(
        self, *, title: str, initial: PersonaFields | None, on_done: SubmitHandler
    ) -> None:
        super().__init__(title=title[:45], timeout=15 * 60)
        self._on_done = on_done
        self._inputs: dict[str, discord.ui.TextInput[PersonaForm]] = {}
        start = initial or PersonaFields()
        for attr, card_field, hint, placeholder in _FORM_INPUTS:
            limit = form_limit(card_field)
            text_input: discord.ui.TextInput[PersonaForm] = discord.ui.TextInput(
                custom_id=attr,
                style=discord.TextStyle.short if attr == "name" else discord.TextStyle.paragraph,
                default=getattr(start, attr) or None,
                placeholder=placeholder or None,
                required=attr == "name",
                max_length=limit,
            )
            self._inputs[attr] = text_input
            label = f"{FORM_LABELS[card_field]} (up to {limit:,})"
            self.add_item(discord.ui.Label(text=label, description=hint, component=text_input))

    def values(self) -> PersonaFields:
        """What was submitted, with surrounding whitespace trimmed."""
        return PersonaFields(**{attr: box.value.strip() for attr, box in self._inputs.items()})

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Hand the values to the command that opened the form, if each fits its input."""
        for attr, card_field, _, _ in _FORM_INPUTS:
            value = self._inputs[attr].value
            if len(value) > form_limit(card_field):
                raise UserFacingError(
                    f"{FORM_LABELS[card_field]}: is {len(value):,} characters; the form "
                    f"takes at most {form_limit(card_field):,}."
                )
        await self._on_done(interaction, self.values())

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows BaseView's
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Say what was wrong with the submission."""
        await report_failure(interaction, error)


# ---- confirmation ----------------------------------------------------------------------------


ConfirmHandler = Callable[[discord.Interaction[Any]], Awaitable[None]]


class ConfirmView(discord.ui.View):
    """Two buttons under a warning; only the person who asked can press them.

    `on_confirm` must answer the interaction (normally with `response.edit_message`).
    """

    def __init__(
        self,
        *,
        owner_id: int,
        confirm_label: str,
        on_confirm: ConfirmHandler,
        check: Callable[[discord.Interaction[Any]], None] | None = None,
        timeout: float = 120.0,
    ) -> None:
        super().__init__(timeout=timeout)
        self._owner_id = owner_id
        self._on_confirm = on_confirm
        self._check = check
        self.message: discord.InteractionMessage | None = None
        self.confirm.label = confirm_label

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Refuse presses by anyone else, and re-run the caller's permission check."""
        if interaction.user.id != self._owner_id:
            raise UserFacingError("Only the person who ran the command can answer this.")
        if self._check is not None:
            self._check(interaction)
        return True

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[ConfirmView]
    ) -> None:
        """Do the thing."""
        self.stop()
        await self._on_confirm(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[ConfirmView]
    ) -> None:
        """Leave everything as it is."""
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled; nothing was changed.", view=None
        )

    async def on_timeout(self) -> None:
        """Take the buttons away once nobody can answer any more."""
        if self.message is not None:
            try:
                await self.message.edit(content="No answer; nothing was changed.", view=None)
            except discord.HTTPException:
                log.debug("Could not expire a confirmation message", exc_info=True)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        """Say why the press was refused or failed."""
        await report_failure(interaction, error)


# ---- embeds ----------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def persona_embed(persona: Persona, *, origin: str, thumbnail: str | None) -> discord.Embed:
    """A persona card: description, scenario, greeting and example lines (under 6000 chars)."""
    embed = discord.Embed(
        title=persona.name,
        description=clip(persona.description, 1500) or "*No description.*",
        colour=EMBED_COLOUR,
    )
    if thumbnail:
        embed.set_thumbnail(url=thumbnail)
    if persona.personality:
        embed.add_field(name="Personality", value=clip(persona.personality, 600), inline=False)
    if persona.scenario:
        embed.add_field(name="Scenario", value=clip(persona.scenario, 800), inline=False)
    if persona.first_message:
        extra = len(persona.alternate_greetings)
        name = f"Greeting (+{extra} alternate)" if extra else "Greeting"
        embed.add_field(name=name, value=clip(persona.first_message, 900), inline=False)
    examples = example_lines(persona)
    if examples:
        embed.add_field(name="Example lines", value=clip(examples, 1000), inline=False)
    details = [f"id: {persona.id}", origin, f"talkativeness {persona.talkativeness:g}"]
    if persona.call_words:
        details.append("call words: " + ", ".join(persona.call_words))
    embed.set_footer(text=clip(" · ".join(details), 500))
    return embed


def example_lines(persona: Persona) -> str:
    """The example exchanges as the model sees them (player line, then persona line)."""
    pairs = parse_example_dialogue(persona.example_dialogue, char_name=persona.name)
    return "\n\n".join(f"**Player:** {pair.user}\n**{persona.name}:** {pair.ai}" for pair in pairs)


def persona_list_embed(rows: Sequence[tuple[Persona, str]]) -> discord.Embed:
    """Every persona of a server, one line each: id, name and where it comes from."""
    lines = [
        f"`{persona.id}` · **{discord.utils.escape_markdown(persona.name)}** · {origin}"
        for persona, origin in rows
    ]
    shown: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        more = f"\n… and {len(lines) - index} more"
        if used + len(line) + 1 + len(more) > 4000:
            shown.append(more.strip())
            break
        shown.append(line)
        used += len(line) + 1
    embed = discord.Embed(
        title=f"Personas ({len(rows)})",
        description="\n".join(shown) or "No personas yet. Add one with `/persona create`.",
        colour=EMBED_COLOUR,
    )
    embed.set_footer(text="Details: /persona show · Add: /persona create or /persona import")
    return embed


def sheet_embed(sheet: PlayerSheet, *, scope: str) -> discord.Embed:
    """A player's sheet as the personas will know it."""
    embed = discord.Embed(
        title=sheet.name,
        description=clip(sheet.description, 4000) or "*No description.*",
        colour=EMBED_COLOUR,
    )
    if sheet.avatar_url:
        embed.set_thumbnail(url=sheet.avatar_url)
    embed.set_footer(text=f"Player sheet · {scope}")
    return embed
