"""The Discord client: RoleplayBot, its command tree, and the factory that builds it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.command_drift import describe_drift
from bot.config import Settings
from bot.errors import UserFacingError
from bot.monitoring import rate_limit_trace
from bot.services import Services
from bot.ui.port import DiscordPort

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "cogs.roleplay",
    "cogs.personas",
    "cogs.players",
    "cogs.scenes",
    "cogs.memory",
    "cogs.admin",
    "cogs.controls",
    "cogs.dice",
    "cogs.lore",
)


class RoleplayTree(app_commands.CommandTree["RoleplayBot"]):
    """Command tree whose single error handler turns every failure into a clear reply."""

    async def on_error(
        self, interaction: discord.Interaction[RoleplayBot], error: app_commands.AppCommandError
    ) -> None:
        """Answer expected errors with their message; log the rest with a quotable id."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await report_failure(interaction, cause)


def explain_error(error: BaseException) -> str:
    """The words for a failed command, form or button; unexpected errors get a logged id."""
    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, app_commands.MissingPermissions):
        perms = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {perms} permission to do that."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You are not allowed to use this command here."
    incident = uuid.uuid4().hex[:8]
    log.error("Command failed (incident %s)", incident, exc_info=error)
    return f"Something went wrong on our side (incident `{incident}`). Please tell an admin."


async def reply_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """Send `text` privately, whether or not the interaction was answered already."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not deliver an error message for interaction %s", interaction.id)


async def report_failure(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Answer a failed form or button the way the command tree answers a failed command."""
    await reply_ephemeral(interaction, explain_error(error))


class RoleplayBot(commands.Bot):
    """Ensemble's bot: Discord events in, services injected, never pings anyone by accident."""

    services: Services
    settings: Settings
    port: DiscordPort

    def __init__(self, services: Services, **overrides: Any) -> None:
        settings = services.settings
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.guild_typing = True
        intents.message_content = settings.message_content_intent
        options: dict[str, Any] = {
            "command_prefix": commands.when_mentioned,
            "help_command": None,
            "intents": intents,
            "allowed_mentions": discord.AllowedMentions.none(),
            "tree_cls": RoleplayTree,
            "max_messages": 2000,
            "chunk_guilds_at_startup": False,
            "http_trace": rate_limit_trace(services.metrics),
        }
        options.update(overrides)
        # Ensemble never joins voice; don't warn that voice libraries are missing.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(**options)
        self.services = services
        self.settings = settings
        self.port = DiscordPort(self, services.pacer, settings)
        self.port.on_alert(services.runtime.alert_admins)
        services.runtime.attach(self.port)
        self.command_check: asyncio.Task[str | None] | None = None
        """Comparing the registered slash commands with the code's, started on first ready."""

    async def setup_hook(self) -> None:
        """Load every extension (failing loudly); bring the dev guild's commands up to date."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            drift = await self.command_drift(guild)
            if drift:
                synced = await self.tree.sync(guild=guild)
                log.info("Synced %d command(s) to dev guild %s (%s)", len(synced), guild.id, drift)

    async def close(self) -> None:
        """End every reply in progress in its interrupted look, then disconnect."""
        if self.command_check is not None:
            self.command_check.cancel()
        await self.services.runtime.shutdown()
        await self.port.close()
        await super().close()

    async def on_ready(self) -> None:
        """Log who we are and where we are; check the global commands once per process."""
        user = self.user
        log.info("Ready as %s in %d guild(s)", user, len(self.guilds))
        if self.command_check is None and not self.settings.dev_guild_id:
            self.command_check = asyncio.create_task(
                self.warn_if_commands_out_of_date(), name="command-check"
            )

    async def command_drift(self, guild: discord.abc.Snowflake | None = None) -> str | None:
        """How the commands registered with Discord (globally, or in `guild`) differ from
        the code's command tree; None when they match.
        """
        in_code = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        application_id = self.application_id
        assert application_id is not None, "only called once logged in"
        if guild is None:
            registered = await self.http.get_global_commands(application_id)
        else:
            registered = await self.http.get_guild_commands(application_id, guild.id)
        return describe_drift(in_code, registered)

    async def warn_if_commands_out_of_date(self) -> str | None:
        """Log one line when the global slash commands on Discord differ from the code's."""
        try:
            drift = await self.command_drift()
        except discord.HTTPException as error:
            log.warning("Could not compare the slash commands with Discord's: %s", error)
            return None
        if drift:
            log.warning("commands out of date: run `python -m bot sync` (%s)", drift)
        return drift

    def gateway_connected(self) -> bool:
        """Whether the gateway connection is up and identified."""
        ws = self.ws
        return self.is_ready() and not self.is_closed() and ws is not None and ws.open

    def queued_turns(self) -> int:
        """Turns waiting in the scene runtime's scheduler."""
        return self.services.runtime.queued_turns()

    def serves_guild(self, guild_id: int) -> bool:
        """Whether this process holds `guild_id` (the bot is in it and its shard runs here)."""
        return self.get_guild(guild_id) is not None

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Log listener exceptions instead of printing them."""
        log.exception("Unhandled error in %s", event_method)


def apply_discord_endpoints(settings: Settings) -> None:
    """Point discord.py at a REST/gateway proxy (or a test fake) when configured.

    These are process-wide class attributes in discord.py, so they are set here, once, by
    the code that builds the bot.
    """
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class ShardedRoleplayBot(RoleplayBot, commands.AutoShardedBot):
    """RoleplayBot running some of the bot's shards (several processes split the guilds)."""

    def gateway_connected(self) -> bool:
        """Whether every shard this process runs is connected."""
        shards = self.shards
        return (
            self.is_ready()
            and not self.is_closed()
            and bool(shards)
            and all(not shard.is_closed() for shard in shards.values())
        )

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Space out IDENTIFYs only when Discord needs it (not for the first shard)."""
        if not initial:
            await super().before_identify_hook(shard_id, initial=initial)


def create_bot(services: Services, **overrides: Any) -> RoleplayBot:
    """Build the bot from opened services; `overrides` go to `commands.Bot` (tests use them).

    With SHARD_COUNT set, the bot runs the shards in SHARD_IDS (all when empty) of that total.
    """
    settings = services.settings
    apply_discord_endpoints(settings)
    if settings.shard_count is None:
        return RoleplayBot(services, **overrides)
    sharding: dict[str, Any] = {"shard_count": settings.shard_count}
    if settings.shard_ids:
        sharding["shard_ids"] = list(settings.shard_ids)
    return ShardedRoleplayBot(services, **sharding, **overrides)
