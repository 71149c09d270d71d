"""The Discord client: RoleplayBot, its command tree, and the factory that builds it."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.errors import UserFacingError
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
)


class RoleplayTree(app_commands.CommandTree["RoleplayBot"]):
    """Command tree whose single error handler turns every failure into a clear reply."""

    async def on_error(
        self, interaction: discord.Interaction[RoleplayBot], error: app_commands.AppCommandError
    ) -> None:
        """Answer expected errors with their message; log the rest with a quotable id."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await reply_ephemeral(interaction, explain_error(cause))


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

    async def setup_hook(self) -> None:
        """Load every extension (failing loudly) and sync to the dev guild if one is set."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)

    async def close(self) -> None:
        """End every reply in progress in its interrupted look, then disconnect."""
        await self.services.runtime.shutdown()
        await self.port.close()
        await super().close()

    async def on_ready(self) -> None:
        """Log who we are and where we are."""
        user = self.user
        log.info("Ready as %s in %d guild(s)", user, len(self.guilds))

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
