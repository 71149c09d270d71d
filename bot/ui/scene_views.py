"""Checks, persona choices, confirmation buttons and wording shared by the scene commands."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.bot import RoleplayBot, report_failure
from bot.engine import ChannelConfig, OocMode
from bot.errors import UserFacingError
from bot.llm import MAX_OUTPUT_TOKENS, SamplingParams
from bot.llm.sampling import MIN_TEMPERATURE, MIN_TOP_P
from bot.models import Persona

log = logging.getLogger(__name__)

T = TypeVar("T")
Interaction = discord.Interaction[RoleplayBot]
SceneChannel = discord.TextChannel | discord.Thread

MAX_CHOICES = 25


class GameMasterRequired(app_commands.CheckFailure):
    """The user may not run scenes here."""


async def is_game_master(interaction: Interaction) -> bool:
    """Manage Channels, or the guild's game-master role (set by id, else found by name)."""
    if interaction.permissions.manage_channels:
        return True
    member = interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        return False
    settings = await interaction.client.services.runtime.guild_settings(interaction.guild.id)
    if settings.gm_role_id is not None:
        return any(role.id == settings.gm_role_id for role in member.roles)
    wanted = interaction.client.settings.gm_role_name.casefold()
    return any(role.name.casefold() == wanted for role in member.roles)


async def game_master_role_label(interaction: Interaction) -> str:
    """How to name the game-master role in a refusal."""
    settings = interaction.client.settings
    if interaction.guild is None:
        return settings.gm_role_name
    guild_settings = await interaction.client.services.runtime.guild_settings(interaction.guild.id)
    if guild_settings.gm_role_id is not None:
        role = interaction.guild.get_role(guild_settings.gm_role_id)
        return role.name if role is not None else "game-master"
    return settings.gm_role_name


def game_master_only() -> Callable[[T], T]:
    """Check at run time that the user may run scenes: Manage Channels or the game-master role."""

    async def predicate(interaction: Interaction) -> bool:
        if await is_game_master(interaction):
            return True
        role = await game_master_role_label(interaction)
        raise GameMasterRequired(
            f"Only game masters can do that: you need the **Manage Channels** permission "
            f"or the **{discord.utils.escape_markdown(role)}** role."
        )

    return app_commands.check(predicate)


def scene_channel(interaction: Interaction) -> SceneChannel:
    """The text channel or thread a command was used in."""
    channel = interaction.channel
    if not isinstance(channel, discord.TextChannel | discord.Thread):
        raise UserFacingError("Scenes run in text channels and their threads.")
    return channel


async def channel_config(interaction: Interaction) -> ChannelConfig | None:
    """The roleplay configuration of the channel the command was used in."""
    if interaction.channel_id is None:
        return None
    return await interaction.client.services.runtime.scene(interaction.channel_id)


def persona_matches(personas: list[Persona], current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete choices: personas whose id or name contains what the user typed."""
    needle = current.casefold().strip()
    found = [p for p in personas if needle in p.id.casefold() or needle in p.name.casefold()]
    found.sort(key=lambda p: (not p.name.casefold().startswith(needle), p.name.casefold()))
    return [
        app_commands.Choice(name=f"{p.name} ({p.id})"[:100], value=p.id)
        for p in found[:MAX_CHOICES]
    ]


async def guild_personas(interaction: Interaction) -> list[Persona]:
    """Every persona the guild can cast."""
    catalog = interaction.client.services.personas
    guild_id = interaction.guild.id if interaction.guild else None
    return list((await catalog.for_guild(guild_id)).values())


async def cast_personas(interaction: Interaction) -> list[Persona]:
    """The personas seated in this channel's scene."""
    config = await channel_config(interaction)
    if config is None:
        return []
    return await interaction.client.services.runtime.cast(config)


async def any_persona_choices(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete over every persona the guild can cast."""
    return persona_matches(await guild_personas(interaction), current)


async def cast_persona_choices(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete over the personas seated in this channel's scene."""
    return persona_matches(await cast_personas(interaction), current)


# ---- out-of-character handling and generation tuning -------------------------------------

OOC_DEFAULT = "default"
"""The `/scene ooc` choice that hands a scene back to the server-wide `OOC_MODE`."""
OOC_WORDS: dict[str, str] = {
    "drop": "kept out of the prompt",
    "mark": "included in the prompt, marked as OOC",
}
TUNING_KEYS = ("temperature", "top_p", "max_tokens")
"""The generation overrides a channel may store, in the order they are shown."""
TUNING_LABELS = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max tokens"}
MAX_UNIT = 1.0
"""The highest temperature and top_p M2-her accepts."""


def ooc_override(choice: str) -> OocMode | None:
    """A channel's `ooc_mode` for a `/scene ooc` choice: drop, mark, or None for the default."""
    if choice == "drop":
        return "drop"
    if choice == "mark":
        return "mark"
    if choice == OOC_DEFAULT:
        return None
    raise UserFacingError(f"`{choice}` is not a choice here: pick drop, mark or default.")


def describe_ooc(config: ChannelConfig, server_default: str) -> str:
    """How a scene treats out-of-character lines, and whether the scene chose that itself."""
    effective = config.ooc_mode or server_default
    words = OOC_WORDS.get(effective, effective)
    if config.ooc_mode is None:
        return f"{words} (the server default)"
    return f"{words} (set for this scene)"


def tuning_changes(
    *, temperature: float | None, top_p: float | None, max_tokens: int | None
) -> dict[str, float | int]:
    """The overrides given, checked against M2-her's ranges (UserFacingError naming each miss).

    Discord enforces the same ranges on the options; this catches stale or modified clients.
    """
    problems: list[str] = []
    changes: dict[str, float | int] = {}
    units = (("temperature", temperature, MIN_TEMPERATURE), ("top_p", top_p, MIN_TOP_P))
    for key, value, low in units:
        if value is None:
            continue
        if math.isfinite(value) and low <= value <= MAX_UNIT:
            changes[key] = float(value)
        else:
            problems.append(
                f"`{key}` must be from {low:g} to {MAX_UNIT:g} (M2-her's range, which excludes 0); "
                f"you gave {value:g}."
            )
    if max_tokens is not None:
        if 1 <= max_tokens <= MAX_OUTPUT_TOKENS:
            changes["max_tokens"] = int(max_tokens)
        else:
            problems.append(
                f"`max_tokens` must be a whole number from 1 to {MAX_OUTPUT_TOKENS} (M2-her's "
                f"longest reply); you gave {max_tokens}."
            )
    if problems:
        raise UserFacingError("\n".join(["Nothing was changed.", *problems]))
    return changes


def describe_sampling(params: SamplingParams, bold: Sequence[str] = ()) -> str:
    """`temperature 0.8 · top_p 0.95 · max tokens 450`, the values named in `bold` in bold."""
    values = {
        "temperature": f"{params.temperature:g}",
        "top_p": f"{params.top_p:g}",
        "max_tokens": str(params.max_tokens),
    }
    return " · ".join(
        f"{TUNING_LABELS[key]} " + (f"**{values[key]}**" if key in bold else values[key])
        for key in TUNING_KEYS
    )


def describe_overrides(generation: Mapping[str, float | int]) -> str | None:
    """A channel's generation overrides in words, or None when it has none."""
    parts = [
        f"{TUNING_LABELS[key]} {generation[key]:g}" for key in TUNING_KEYS if key in generation
    ]
    return " · ".join(parts) or None


def tuning_report(
    config: ChannelConfig,
    cast: Sequence[tuple[Persona, SamplingParams]],
    defaults: SamplingParams,
    headline: str,
) -> str:
    """The `/scene tuning` answer: the scene's overrides and what each persona now uses.

    `cast` pairs each persona with the sampling its next reply uses (`Engine.sampling_for`).
    """
    overrides = describe_overrides(config.generation)
    lines = [
        headline,
        f"Set for this scene: {overrides}."
        if overrides
        else "Nothing is set for this scene, so the defaults apply.",
    ]
    if cast:
        lines.append("The cast's next replies use (**bold** = set for this scene):")
        bold = [key for key in TUNING_KEYS if key in config.generation]
        lines += [
            f"• {discord.utils.escape_markdown(p.name)}: {describe_sampling(params, bold)}"
            for p, params in cast
        ]
    lines.append(
        "-# What is not set here comes from the persona's card, else the server settings: "
        f"{describe_sampling(defaults)}."
    )
    return "\n".join(lines)


class ConfirmView(discord.ui.View):
    """Confirm / Cancel buttons for a destructive action; `answer` is None until pressed."""

    def __init__(self, confirm_label: str, *, timeout: float = 60.0) -> None:
        super().__init__(timeout=timeout)
        self.answer: bool | None = None
        self.confirm.label = confirm_label

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        """The user confirmed."""
        await self._answer(interaction, True)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        """The user changed their mind."""
        await self._answer(interaction, False)

    async def _answer(self, interaction: discord.Interaction[Any], answer: bool) -> None:
        self.answer = answer
        # Acknowledge at once; the command edits its own message when the work is done.
        await interaction.response.defer()
        self.stop()

    async def ask(self, interaction: Interaction, question: str) -> bool | None:
        """Show `question` ephemerally with the buttons and wait; None means no answer in time."""
        await interaction.response.send_message(question, view=self, ephemeral=True)
        await self.wait()
        return self.answer


class TextModal(discord.ui.Modal):
    """A one-field form (e.g. the summary editor); the text goes to `on_text`."""

    def __init__(
        self,
        *,
        title: str,
        label: str,
        default: str,
        on_text: Callable[[Interaction, str], Awaitable[None]],
        max_length: int = 4000,
    ) -> None:
        super().__init__(title=title, timeout=900)
        self.field: discord.ui.TextInput[TextModal] = discord.ui.TextInput(
            label=label,
            style=discord.TextStyle.paragraph,
            default=default or None,
            max_length=max_length,
            min_length=1,
        )
        self.add_item(self.field)
        self._on_text = on_text

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Hand the submitted text over."""
        await self._on_text(interaction, self.field.value)

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception
    ) -> None:
        """Show expected errors; log unexpected ones with an id the user can quote."""
        await report_failure(interaction, error)
