"""The /scene commands: start and end scenes, seat the cast, shape how the scene plays."""

from __future__ import annotations

import dataclasses
import io
import logging
import time
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.budget import utc_day_start
from bot.engine import ChannelConfig
from bot.errors import UserFacingError
from bot.llm import MAX_OUTPUT_TOKENS, SamplingParams
from bot.llm.sampling import MIN_TEMPERATURE, MIN_TOP_P
from bot.models import Persona
from bot.reports import (
    describe_mode,
    summary_line,
    transcript_filename,
    transcript_text,
    usage_cell,
)
from bot.ui.scene_views import (
    OOC_DEFAULT,
    ConfirmView,
    Interaction,
    SceneChannel,
    any_persona_choices,
    cast_persona_choices,
    describe_ooc,
    describe_overrides,
    game_master_only,
    ooc_override,
    scene_channel,
    tuning_changes,
    tuning_report,
)

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

log = logging.getLogger(__name__)

MAX_CAST = 10
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080

MODE_CHOICES = [
    app_commands.Choice(name="Only when addressed", value="addressed"),
    app_commands.Choice(name="Join in automatically after a lull", value="auto"),
]
OOC_CHOICES = [
    app_commands.Choice(name="drop: keep OOC lines out of the prompt", value="drop"),
    app_commands.Choice(name="mark: include OOC lines, marked as OOC", value="mark"),
    app_commands.Choice(name="default: follow the server's OOC_MODE", value=OOC_DEFAULT),
]

TRANSCRIPT_CHOICES = [
    app_commands.Choice(name="Send it to me", value="me"),
    app_commands.Choice(name="Post it in the channel", value="channel"),
    app_commands.Choice(name="No transcript", value="none"),
]


@app_commands.guild_only()
class Scenes(commands.GroupCog, group_name="scene", group_description="Run roleplay scenes."):
    """Game masters start, shape and end scenes; anyone can read a scene's status."""

    cast = app_commands.Group(name="cast", description="Seat or unseat personas in this scene.")

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.services = bot.services
        self.runtime = bot.services.runtime
        self.store = bot.services.store
        super().__init__()

    # ---- helpers -----------------------------------------------------------------------------

    async def _running(self, channel_id: int) -> ChannelConfig:
        config = await self.runtime.scene(channel_id)
        if config is None or not config.enabled:
            raise UserFacingError(
                "There's no scene running in this channel — start one with `/scene start`."
            )
        return config

    async def _personas(self, guild_id: int, ids: list[str]) -> list[Persona]:
        available = await self.services.personas.for_guild(guild_id)
        unknown = [pid for pid in ids if pid not in available]
        if unknown:
            raise UserFacingError(
                f"I don't know the persona(s) {', '.join(f'`{u}`' for u in unknown)}. "
                "Pick one from the list as you type, or add it with `/persona import`."
            )
        return [available[pid] for pid in dict.fromkeys(ids)]

    async def _check_seating(self, channel: SceneChannel, personas: list[Persona]) -> None:
        """Refuse adult personas in a channel that is not age-restricted."""
        refusal = await self.runtime.seating_refusal(channel.id, channel.guild.id, personas)
        if refusal is not None:
            raise UserFacingError(refusal)

    async def _greet(self, channel: SceneChannel, guild_id: int, persona: Persona) -> bool:
        """Post a persona's greeting and remember it as its own line; False if none was posted."""
        return await self.runtime.greet(channel.id, guild_id, persona)

    async def _post(self, channel: SceneChannel, text: str, **kwargs: Any) -> None:
        await self.services.pacer.take(channel.id)
        await channel.send(text, **kwargs)

    # ---- start and end -----------------------------------------------------------------------

    @app_commands.command(name="start")
    @app_commands.describe(
        name="The scene's name, e.g. The Gilded Tavern",
        persona="The first persona in the cast",
        persona_2="Another persona in the cast",
        persona_3="Another persona in the cast",
        setting="One line of setting the personas play in",
        new_thread="Start the scene in a new public thread of this channel",
    )
    @app_commands.autocomplete(
        persona=any_persona_choices, persona_2=any_persona_choices, persona_3=any_persona_choices
    )
    @game_master_only()
    async def start(
        self,
        interaction: Interaction,
        name: app_commands.Range[str, 1, 80],
        persona: str,
        persona_2: str | None = None,
        persona_3: str | None = None,
        setting: app_commands.Range[str, 1, 300] | None = None,
        new_thread: bool = False,
    ) -> None:
        """Turn roleplay on here or in a new thread, seat the cast and post their greetings."""
        channel = scene_channel(interaction)
        guild_id = channel.guild.id
        ids = [pid for pid in (persona, persona_2, persona_3) if pid]
        cast = await self._personas(guild_id, ids)
        await self._check_seating(channel, cast)
        if new_thread and not isinstance(channel, discord.TextChannel):
            raise UserFacingError("A new thread can only be started from a text channel.")
        if not new_thread:
            existing = await self.runtime.scene(channel.id)
            if existing is not None and existing.enabled:
                raise UserFacingError(
                    f"**{existing.scene_name or 'A scene'}** is already running here. End it "
                    "with `/scene end`, or change it with `/scene cast` and `/scene setting`."
                )
        await interaction.response.defer(ephemeral=True, thinking=True)
        if isinstance(channel, discord.TextChannel) and new_thread:
            channel = await self._new_thread(channel, name, interaction.user)
        existing = await self.runtime.scene(channel.id)
        config = dataclasses.replace(
            existing or ChannelConfig(channel_id=channel.id, guild_id=guild_id),
            enabled=True,
            cast=tuple(p.id for p in cast),
            scene_name=name,
            scene_setting=setting or "",
        )
        await self.runtime.configure(config)
        names = ", ".join(p.name for p in cast)
        mode = describe_mode(config, self.bot.settings.lull_seconds)
        card = f"🎬 **{discord.utils.escape_markdown(name)}**"
        if setting:
            card += f"\n{setting}"
        await self._post(channel, f"{card}\n-# Cast: {names} · the scene {mode}")
        greeted = [p.name for p in cast if await self._greet(channel, guild_id, p)]
        remembered = await self.store.count_messages(channel.id) - len(greeted)
        lines = [f"🎬 **{name}** is on in {channel.mention} with {names}."]
        if greeted:
            lines.append(f"Greetings posted by {', '.join(greeted)}.")
        if remembered > 0:
            lines.append(
                f"This channel still remembers {remembered} earlier message(s); "
                "`/scene reset` wipes them."
            )
        lines.append(f"The scene {mode}; change that with `/scene mode`.")
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    async def _new_thread(
        self, channel: discord.TextChannel, name: str, user: discord.abc.User
    ) -> discord.Thread:
        try:
            return await channel.create_thread(
                name=name[:100],
                type=discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                reason=f"Scene started by {user}",
            )
        except discord.Forbidden as error:
            raise UserFacingError(
                "I can't create threads here — I need the **Create Public Threads** permission."
            ) from error

    @app_commands.command(name="end")
    @app_commands.describe(transcript="What to do with the transcript of the scene's memory")
    @app_commands.choices(transcript=TRANSCRIPT_CHOICES)
    @game_master_only()
    async def end(
        self, interaction: Interaction, transcript: app_commands.Choice[str] | None = None
    ) -> None:
        """Turn roleplay off in this channel and offer the transcript as a file."""
        channel = scene_channel(interaction)
        config = await self._running(channel.id)
        choice = transcript.value if transcript else "me"
        await interaction.response.defer(ephemeral=True, thinking=True)

        await self.runtime.end_scene(config)
        name = config.scene_name or "The scene"
        notice = f"🎬 **{discord.utils.escape_markdown(name)}** has ended. Thanks for playing!"
        filename = transcript_filename(config.scene_name)
        data = b""
        if choice != "none":
            text = await transcript_text(
                self.store,
                channel.id,
                title=config.scene_name,
                setting=config.scene_setting,
                now=time.time(),
            )
            data = text.encode()
        if len(data) > interaction.filesize_limit:
            # Keep the newest part; a cut through a multi-byte character is dropped.
            data = data[-interaction.filesize_limit :].decode(errors="ignore").encode()
        if choice == "channel":
            await self._post(channel, notice, file=discord.File(io.BytesIO(data), filename))
            await interaction.followup.send(
                "Scene ended; the transcript is in the channel.", ephemeral=True
            )
            return
        await self._post(channel, notice)
        if choice == "none":
            await interaction.followup.send("Scene ended. Its memory is kept.", ephemeral=True)
            return
        await interaction.followup.send(
            "Scene ended. Here is the transcript of its memory; `/scene reset` would wipe it.",
            file=discord.File(io.BytesIO(data), filename),
            ephemeral=True,
        )

    @app_commands.command(name="reset")
    @game_master_only()
    async def reset(self, interaction: Interaction) -> None:
        """Wipe this channel's memory for good (asks first); the scene's settings stay."""
        channel = scene_channel(interaction)
        if await self.runtime.scene(channel.id) is None:
            raise UserFacingError(
                "Roleplay was never set up in this channel; there's nothing to wipe."
            )
        count = await self.store.count_messages(channel.id)
        view = ConfirmView("Wipe memory")
        answer = await view.ask(
            interaction,
            f"⚠️ This erases this channel's memory for good: {count} message(s), the summary "
            "and the pins. The cast and settings stay. Wipe it?",
        )
        if not answer:
            reason = "Cancelled" if answer is False else "No answer"
            await interaction.edit_original_response(
                content=f"{reason} — nothing was erased.", view=None
            )
            return

        wiped = await self.runtime.erase_scene(channel.id)
        await interaction.edit_original_response(
            content=(
                f"🧹 Memory wiped: {wiped.get('messages', 0)} message(s), "
                f"{wiped.get('summaries', 0)} summary version(s), {wiped.get('pins', 0)} pin(s)."
            ),
            view=None,
        )

    # ---- shaping a running scene -------------------------------------------------------------

    @cast.command(name="add")
    @app_commands.describe(
        persona="The persona to seat", greet="Post the persona's greeting as it joins"
    )
    @app_commands.autocomplete(persona=any_persona_choices)
    @game_master_only()
    async def cast_add(self, interaction: Interaction, persona: str, greet: bool = True) -> None:
        """Seat a persona in this scene."""
        channel = scene_channel(interaction)
        config = await self._running(channel.id)
        (joining,) = await self._personas(channel.guild.id, [persona])
        await self._check_seating(channel, [joining])
        if joining.id in config.cast:
            raise UserFacingError(f"{joining.name} is already in the cast.")
        if len(config.cast) >= MAX_CAST:
            raise UserFacingError(f"A scene seats at most {MAX_CAST} personas.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.runtime.configure(dataclasses.replace(config, cast=(*config.cast, joining.id)))
        greeted = greet and await self._greet(channel, channel.guild.id, joining)
        note = " and greeted the scene" if greeted else ""
        await interaction.followup.send(f"➕ {joining.name} joined the cast{note}.", ephemeral=True)

    @cast.command(name="remove")
    @app_commands.describe(persona="The persona to unseat")
    @app_commands.autocomplete(persona=cast_persona_choices)
    @game_master_only()
    async def cast_remove(self, interaction: Interaction, persona: str) -> None:
        """Unseat a persona from this scene; its lines stay in memory."""
        channel = scene_channel(interaction)
        config = await self._running(channel.id)
        if persona not in config.cast:
            raise UserFacingError(f"`{persona}` is not in this scene's cast.")
        left = tuple(pid for pid in config.cast if pid != persona)
        await self.runtime.configure(dataclasses.replace(config, cast=left))
        leaving = await self.services.personas.get(channel.guild.id, persona)
        name = leaving.name if leaving else persona
        warning = " The cast is empty now, so nobody will answer." if not left else ""
        await interaction.response.send_message(
            f"➖ {name} left the cast.{warning}", ephemeral=True
        )

    @app_commands.command(name="mode")
    @app_commands.describe(
        mode="Answer only when a persona is addressed, or join in after a lull",
        lull="Seconds of quiet before an automatic reply",
    )
    @app_commands.choices(mode=MODE_CHOICES)
    @game_master_only()
    async def mode(
        self,
        interaction: Interaction,
        mode: app_commands.Choice[str],
        lull: app_commands.Range[float, 0.5, 120.0] | None = None,
    ) -> None:
        """Choose whether personas answer only when addressed or join in after a lull."""
        channel = scene_channel(interaction)
        config = await self._running(channel.id)
        updated = dataclasses.replace(
            config,
            reply_mode="auto" if mode.value == "auto" else "addressed",
            lull_seconds=config.lull_seconds if lull is None else lull,
        )
        await self.runtime.configure(updated)
        described = describe_mode(updated, self.bot.settings.lull_seconds)
        await interaction.response.send_message(f"⚙️ The scene now {described}.", ephemeral=True)

    @app_commands.command(name="ooc")
    @app_commands.describe(
        handling="What the model sees of out-of-character lines like ((this)) or OOC: this"
    )
    @app_commands.choices(handling=OOC_CHOICES)
    @game_master_only()
    async def ooc(self, interaction: Interaction, handling: app_commands.Choice[str]) -> None:
        """Choose whether out-of-character lines reach the model (marked as OOC) or not."""
        channel = scene_channel(interaction)
        config = await self._running(channel.id)
        updated = dataclasses.replace(config, ooc_mode=ooc_override(handling.value))
        await self.runtime.configure(updated)
        described = describe_ooc(updated, self.runtime.config.ooc_mode)
        await interaction.response.send_message(
            f"💬 Out-of-character lines are now {described}. They are never answered.",
            ephemeral=True,
        )

    @app_commands.command(name="tuning")
    @app_commands.describe(
        temperature="Sampling temperature here, 0.01 to 1: lower is steadier, higher more varied",
        top_p="Nucleus sampling here, 0.01 to 1",
        max_tokens="Longest reply here, 1 to 2048 tokens",
        reset="Clear this scene's overrides first; values given with it still apply",
    )
    @game_master_only()
    async def tuning(
        self,
        interaction: Interaction,
        temperature: app_commands.Range[float, MIN_TEMPERATURE, 1.0] | None = None,
        top_p: app_commands.Range[float, MIN_TOP_P, 1.0] | None = None,
        max_tokens: app_commands.Range[int, 1, MAX_OUTPUT_TOKENS] | None = None,
        reset: bool = False,
    ) -> None:
        """Set temperature, top_p or reply length for this scene; shows the values in effect."""
        channel = scene_channel(interaction)
        config = await self._running(channel.id)
        changes = tuning_changes(temperature=temperature, top_p=top_p, max_tokens=max_tokens)
        updated = config
        if reset or changes:
            generation = {} if reset else dict(config.generation)
            generation.update(changes)
            updated = dataclasses.replace(config, generation=generation)
            await self.runtime.configure(updated)
        if reset:
            headline = "🎛️ Tuning reset" + (", then updated." if changes else ".")
        else:
            headline = "🎛️ Tuning updated." if changes else "🎛️ This scene's tuning:"
        engine = self.runtime.config
        defaults = SamplingParams(engine.temperature, engine.top_p, engine.reply_tokens)
        cast = [
            (p, self.runtime.sampling_for(p, updated)) for p in await self.runtime.cast(updated)
        ]
        await interaction.response.send_message(
            tuning_report(updated, cast, defaults, headline), ephemeral=True
        )

    @app_commands.command(name="setting")
    @app_commands.describe(
        setting="One line of setting the personas play in", name="A new name for the scene"
    )
    @game_master_only()
    async def setting(
        self,
        interaction: Interaction,
        setting: app_commands.Range[str, 1, 300] | None = None,
        name: app_commands.Range[str, 1, 80] | None = None,
    ) -> None:
        """Change the scene's setting or name; the channel sees the change."""
        channel = scene_channel(interaction)
        config = await self._running(channel.id)
        if setting is None and name is None:
            raise UserFacingError("Give a new `setting`, a new `name`, or both.")
        updated = dataclasses.replace(
            config,
            scene_name=config.scene_name if name is None else name,
            scene_setting=config.scene_setting if setting is None else setting,
        )
        await self.runtime.configure(updated)
        text = f"📜 The scene is now **{discord.utils.escape_markdown(updated.scene_name)}**"
        if updated.scene_setting:
            text += f"\n{updated.scene_setting}"
        await interaction.response.send_message(text)

    @app_commands.command(name="status")
    async def status(self, interaction: Interaction) -> None:
        """Show this scene's cast, mode, memory, summary and token use."""
        channel = scene_channel(interaction)
        config = await self.runtime.scene(channel.id)
        if config is None:
            raise UserFacingError(
                "Roleplay was never set up in this channel — start a scene with `/scene start`."
            )
        cast = await self.runtime.cast(config)
        messages = await self.store.count_messages(channel.id)
        pins = await self.store.list_pins(channel.id)
        summary = await self.store.get_summary(channel.id)
        guild_id = channel.guild.id
        today = await self.store.usage_report(guild_id, since=utc_day_start(time.time()))
        ever = await self.store.usage_report(guild_id)
        state = "▶️ running" if config.enabled else "⏹️ ended"
        embed = discord.Embed(
            title=f"🎬 {config.scene_name or 'Untitled scene'}",
            description=config.scene_setting or None,
        )
        embed.add_field(name="State", value=state)
        embed.add_field(name="Cast", value=", ".join(p.name for p in cast) or "nobody")
        embed.add_field(
            name="Mode", value=describe_mode(config, self.bot.settings.lull_seconds), inline=False
        )
        embed.add_field(
            name="Out of character",
            value=describe_ooc(config, self.runtime.config.ooc_mode),
            inline=False,
        )
        overrides = describe_overrides(config.generation)
        embed.add_field(
            name="Tuning",
            value=f"{overrides} (set for this scene)"
            if overrides
            else "persona and server defaults",
            inline=False,
        )
        embed.add_field(name="Memory", value=f"{messages} message(s) · {len(pins)} pin(s)")
        embed.add_field(name="Summary", value=summary_line(summary) if summary else "none yet")
        embed.add_field(
            name="Token use here",
            value=(
                f"today {usage_cell(today.by_channel.get(channel.id))}\n"
                f"all time {usage_cell(ever.by_channel.get(channel.id))}"
            ),
            inline=False,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # ---- administration ----------------------------------------------------------------------

    @app_commands.command(name="gm-role")
    @app_commands.describe(
        role="Members with this role may run scenes; leave empty for the default"
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def gm_role(self, interaction: Interaction, role: discord.Role | None = None) -> None:
        """Choose the role whose members may run scenes without Manage Channels (admins)."""
        guild = interaction.guild
        if guild is None:
            raise UserFacingError("This only works in a server.")
        settings = await self.runtime.guild_settings(guild.id)
        await self.runtime.save_guild_settings(
            dataclasses.replace(settings, gm_role_id=None if role is None else role.id)
        )
        if role is None:
            default = discord.utils.escape_markdown(self.bot.settings.gm_role_name)
            text = (
                f"Game masters are now members with Manage Channels or a role named **{default}**."
            )
        else:
            text = f"Game masters are now members with Manage Channels or the {role.mention} role."
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: RoleplayBot) -> None:
    """Load the Scenes cog."""
    await bot.add_cog(Scenes(bot))
