"""Admin commands: /debug prompt (the prompt inspector), /usage and the daily /budget."""

from __future__ import annotations

import dataclasses
import io
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.budget import utc_day_start
from bot.engine import PreparedTurn
from bot.errors import UserFacingError
from bot.llm import LLMClient
from bot.memory import GuildSettings, UsageReport, UsageTotals
from bot.pricing import cache_savings
from bot.prompt import summarize_cuts
from bot.reports import format_usd, request_json, request_preview, totals_row, usage_rows
from bot.tokens import TokenEstimator
from bot.ui.scene_views import Interaction, cast_persona_choices

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
MESSAGE_LIMIT = 2000
WEEK_SECONDS = 7 * 86_400
CLEAR_CHOICES = [
    app_commands.Choice(name="Both budgets", value="both"),
    app_commands.Choice(name="The server's budget", value="server"),
    app_commands.Choice(name="The per-player budget", value="user"),
]


def request_payload(llm: LLMClient, turn: PreparedTurn) -> dict[str, Any]:
    """The JSON body the model client would send for `turn`, from the client's own encoder."""
    return llm.request_body(turn.prompt.messages, turn.params)


def describe_turn(
    turn: PreparedTurn, llm: LLMClient, estimator: TokenEstimator | None = None
) -> str:
    """The inspector's headline: who, where to, dialect, tokens, cache and what was cut."""
    prompt = turn.prompt
    params = turn.params
    calibration = f" (estimate {estimator.describe()})" if estimator is not None else ""
    lines = [
        f"🔎 **Next request for {turn.persona.name}** → `POST {llm.url}` (model `{llm.model}`)",
        f"Dialect **{prompt.dialect}** · {llm.dialect.describe()}",
        f"About **{prompt.estimated_tokens:,} tokens** of {prompt.budget_tokens:,} allowed"
        f"{calibration} · {len(prompt.messages)} messages · "
        f"cacheable prefix: {prompt.stable_messages} message(s), "
        f"{prefix_share(turn):.0%} of the request",
        f"History: {prompt.kept_history} line(s) kept, {prompt.dropped_history} dropped for the "
        f"budget · {prompt.dropped_examples} example(s) dropped · max_tokens {params.max_tokens}, "
        f"temperature {params.temperature:g}, top_p {params.top_p:g}",
    ]
    cuts = summarize_cuts(prompt.cuts)
    if cuts:
        shown = cuts[:6] + ([f"… {len(cuts) - 6} more"] if len(cuts) > 6 else [])
        lines.append("✂️ Cut to fit the window: " + "; ".join(shown))
    context = turn.context
    for hit in context.lore.fired:
        lines.append(
            f"📖 Lore fired: {hit.scope} `{hit.entry.uid}` **{hit.entry.title}** — {hit.reason}"
        )
    for hit in context.lore.left_out:
        lines.append(f"📖 Lore left out (budget): {hit.scope} `{hit.entry.uid}` {hit.entry.title}")
    if context.recall_terms:
        found = len(context.recalled)
        terms = ", ".join(context.recall_terms[:8])
        lines.append(f"🧠 Recall for “{terms}”: {found} older passage(s) added")
    if prompt.ends_on_own_turn:
        lines.append(
            f"⚠️ The newest line is {turn.persona.name}'s own, so it waits for someone else."
        )
    return "\n".join(lines)


def prefix_share(turn: PreparedTurn) -> float:
    """The share of the request's bytes that stays the same from turn to turn."""
    messages = turn.prompt.messages
    whole = len(json.dumps(messages, ensure_ascii=False).encode())
    stable = len(json.dumps(messages[: turn.prompt.stable_messages], ensure_ascii=False).encode())
    return stable / whole if whole else 0.0


def cache_line(periods: list[tuple[str, UsageTotals]]) -> str:
    """How much prompt input the provider served from its cache, and what that saved."""
    parts = []
    for name, totals in periods:
        if totals.prompt_tokens <= 0:
            parts.append(f"{name} —")
            continue
        share = totals.cached_tokens / totals.prompt_tokens
        saved = format_usd(cache_savings(totals.cached_tokens))
        parts.append(f"{name} {share:.0%} (saved {saved})")
    return "🗄️ Prompt tokens served from the provider's cache: " + " | ".join(parts)


def budget_line(settings: GuildSettings, spent_today: float) -> str:
    """The guild's daily budgets in words."""
    parts = []
    if settings.daily_budget_usd is not None:
        parts.append(
            f"server {format_usd(settings.daily_budget_usd)}/day "
            f"({format_usd(spent_today)} spent today)"
        )
    if settings.user_daily_budget_usd is not None:
        parts.append(f"each player {format_usd(settings.user_daily_budget_usd)}/day")
    if not parts:
        return "No daily budgets; set them with `/budget server` and `/budget user`."
    return "Daily budgets (UTC days): " + ", ".join(parts) + "."


class Admin(commands.Cog):
    """Look inside the bot and keep its spending in check (Manage Server)."""

    debug = app_commands.Group(
        name="debug",
        description="Look inside the bot (admins).",
        guild_only=True,
        default_permissions=ADMIN_PERMISSIONS,
    )
    budget = app_commands.Group(
        name="budget",
        description="Daily model spending limits (admins).",
        guild_only=True,
        default_permissions=ADMIN_PERMISSIONS,
    )

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.runtime = bot.services.runtime
        self.store = bot.services.store
        self.llm = bot.services.llm

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Check Manage Server at run time too: Discord only applies it as a default."""
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    def _guild_id(self, interaction: Interaction) -> int:
        if interaction.guild_id is None:
            raise UserFacingError("This only works in a server.")
        return interaction.guild_id

    # ---- the prompt inspector ------------------------------------------------------------

    @debug.command(name="prompt")
    @app_commands.describe(persona="Whose next reply to inspect; the first in the cast by default")
    @app_commands.autocomplete(persona=cast_persona_choices)
    async def debug_prompt(self, interaction: Interaction, persona: str | None = None) -> None:
        """Show exactly the request the next reply here would send, with dialect and tokens."""
        channel_id = interaction.channel_id
        config = None if channel_id is None else await self.runtime.scene(channel_id)
        if channel_id is None or config is None:
            raise UserFacingError(
                "Roleplay was never set up in this channel — start a scene with `/scene start`."
            )
        if persona is None:
            if not config.cast:
                raise UserFacingError("The cast is empty; name the persona to inspect.")
            persona = config.cast[0]
        await interaction.response.defer(ephemeral=True, thinking=True)
        turn = await self.runtime.preview(channel_id, persona)
        if turn is None:
            raise UserFacingError(f"There is no persona `{persona[:80]}` in this server.")
        payload = request_payload(self.llm, turn)
        header = describe_turn(turn, self.llm, self.runtime.memory.estimator)
        room = MESSAGE_LIMIT - len(header) - len("\n```json\n\n```")
        preview = request_preview(payload, room)
        attachment = discord.File(
            io.BytesIO(request_json(payload).encode()), filename=f"request-{turn.persona.id}.json"
        )
        await interaction.followup.send(
            f"{header}\n```json\n{preview}\n```", file=attachment, ephemeral=True
        )

    # ---- usage ---------------------------------------------------------------------------

    @app_commands.command(name="usage")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def usage(self, interaction: Interaction) -> None:
        """Show tokens and dollars spent here by channel, player and persona (admins)."""
        guild_id = self._guild_id(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = time.time()
        today = utc_day_start(now)
        reports: list[tuple[str, UsageReport]] = [
            ("today", await self.store.usage_report(guild_id, since=today)),
            ("7 days", await self.store.usage_report(guild_id, since=now - WEEK_SECONDS)),
            ("all time", await self.store.usage_report(guild_id)),
        ]
        names = await self.bot.services.personas.for_guild(guild_id)
        settings = await self.runtime.guild_settings(guild_id)

        def persona_label(key: str | None) -> str:
            if key is None:
                return "(no persona)"
            return names[key].name if key in names else key

        def channel_label(key: int | None) -> str:
            return "(no channel)" if key is None else f"<#{key}>"

        def user_label(key: int | None) -> str:
            return "(no player)" if key is None else f"<@{key}>"

        header = " | ".join(name for name, _ in reports)
        embed = discord.Embed(
            title="💰 Model use in this server",
            description=(
                f"{totals_row([(n, r.total) for n, r in reports])}\n"
                f"{cache_line([(n, r.total) for n, r in reports])}\n"
                f"{budget_line(settings, reports[0][1].total.cost_usd)}"
            ),
        )
        sections: list[tuple[str, list[str]]] = [
            ("By channel", usage_rows([(n, r.by_channel) for n, r in reports], channel_label)),
            ("By player", usage_rows([(n, r.by_user) for n, r in reports], user_label)),
            ("By persona", usage_rows([(n, r.by_persona) for n, r in reports], persona_label)),
        ]
        for title, rows in sections:
            value = "\n".join(rows) if rows else "nothing yet"
            if len(value) > 1024:
                value = value[:1023] + "…"
            embed.add_field(name=f"{title} ({header})", value=value, inline=False)
        await interaction.followup.send(embed=embed, ephemeral=True)

    # ---- where admin alerts go ------------------------------------------------------------

    @app_commands.command(name="alerts")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(channel="Where to post key, credit and permission alerts; empty = DM")
    async def alerts(
        self, interaction: Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        """Choose the channel for admin alerts (bad key, no credits, missing permissions)."""
        guild_id = self._guild_id(interaction)
        settings = await self.runtime.guild_settings(guild_id)
        updated = dataclasses.replace(
            settings,
            log_channel_id=None if channel is None else channel.id,
            admin_notified=frozenset(),
        )
        await self.runtime.save_guild_settings(updated)
        where = channel.mention if channel else "a direct message to the server owner"
        await interaction.response.send_message(
            f"Admin alerts will go to {where}. Each kind of alert is sent once.", ephemeral=True
        )

    # ---- budgets -------------------------------------------------------------------------

    async def _save_budget(
        self, interaction: Interaction, change: Callable[[GuildSettings], GuildSettings]
    ) -> str:
        guild_id = self._guild_id(interaction)
        settings = change(await self.runtime.guild_settings(guild_id))
        await self.runtime.save_guild_settings(settings)
        spent = await self.store.spent_usd(guild_id, utc_day_start(time.time()))
        return budget_line(settings, spent)

    @budget.command(name="server")
    @app_commands.describe(usd="Dollars the whole server may spend per UTC day (0 pauses replies)")
    async def budget_server(
        self, interaction: Interaction, usd: app_commands.Range[float, 0.0, 100_000.0]
    ) -> None:
        """Set the whole server's daily model budget, in US dollars."""
        line = await self._save_budget(
            interaction, lambda s: dataclasses.replace(s, daily_budget_usd=usd)
        )
        await interaction.response.send_message(f"💰 Saved. {line}", ephemeral=True)

    @budget.command(name="user")
    @app_commands.describe(usd="Dollars each player may spend per UTC day")
    async def budget_user(
        self, interaction: Interaction, usd: app_commands.Range[float, 0.0, 100_000.0]
    ) -> None:
        """Set how much each player may spend per day, in US dollars."""
        line = await self._save_budget(
            interaction, lambda s: dataclasses.replace(s, user_daily_budget_usd=usd)
        )
        await interaction.response.send_message(f"💰 Saved. {line}", ephemeral=True)

    @budget.command(name="clear")
    @app_commands.describe(which="Which budget to remove; both by default")
    @app_commands.choices(which=CLEAR_CHOICES)
    async def budget_clear(
        self, interaction: Interaction, which: app_commands.Choice[str] | None = None
    ) -> None:
        """Remove the daily budgets, so spending is unlimited again."""
        choice = which.value if which else "both"

        def clear(settings: GuildSettings) -> GuildSettings:
            return dataclasses.replace(
                settings,
                daily_budget_usd=None if choice != "user" else settings.daily_budget_usd,
                user_daily_budget_usd=(
                    None if choice != "server" else settings.user_daily_budget_usd
                ),
            )

        line = await self._save_budget(interaction, clear)
        await interaction.response.send_message(f"💰 Cleared. {line}", ephemeral=True)


async def setup(bot: RoleplayBot) -> None:
    """Load the Admin cog."""
    await bot.add_cog(Admin(bot))
