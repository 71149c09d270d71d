"""Discord behind the engine's `ScenePort`: where personas speak, notices, missed history."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.config import Settings
from bot.engine import IncomingMessage, PortError, Shown
from bot.errors import AdminAlert
from bot.models import Persona
from bot.pacing import EditPacer
from bot.ui.convert import display_name, plain_text, reply_target_id
from bot.ui.outlet import DiscordOutlet
from bot.ui.targets import (
    NO_MENTIONS,
    ChannelTarget,
    DeferredTarget,
    PersonaWebhooks,
    ReplyTarget,
    WebhookTarget,
)

log = logging.getLogger(__name__)

ORPHAN_MARK = "✂️"
"""Left on a message of a deleted webhook the bot may not delete: it was re-posted below."""

AlertAdmins = Callable[[int, AdminAlert, int], Awaitable[None]]


class DiscordPort:
    """The engine's view of Discord: one object per bot, shared by every channel."""

    def __init__(self, client: discord.Client, pacer: EditPacer, settings: Settings) -> None:
        self.client = client
        self.pacer = pacer
        self.settings = settings
        self._webhooks: PersonaWebhooks | None = None
        self._alert: AlertAdmins | None = None
        self._stale: dict[int, list[tuple[Persona, int]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on_alert(self, alert: AlertAdmins) -> None:
        """Where the port reports problems only admins can fix (the runtime tells them once)."""
        self._alert = alert

    @property
    def webhooks(self) -> PersonaWebhooks:
        """The persona webhooks this process knows (made once the bot user is known)."""
        if self._webhooks is None:
            assert self.client.user is not None
            self._webhooks = PersonaWebhooks(self.client.user.id)
        return self._webhooks

    # ---- incoming ----------------------------------------------------------------------------

    def incoming(self, message: discord.Message) -> IncomingMessage | None:
        """A player's message as the engine takes it, or None for what the scene ignores:
        our own posts and webhooks, other bots (unless allow-listed), system messages, DMs.
        """
        me = self.client.user
        if message.guild is None or me is None or message.author.id == me.id:
            return None
        via_proxy = message.webhook_id is not None
        if via_proxy:
            # Ours if this process made or found it, or if our application owns it (another
            # process of ours, sharing the guild during a shard move, posted through it).
            hooks = self.webhooks
            if message.application_id is not None and (
                message.application_id == self.client.application_id
            ):
                hooks.known_ids.add(message.webhook_id)  # type: ignore[arg-type]
            if hooks.is_own(message.webhook_id):
                return None
        elif message.author.bot and message.author.id not in self.settings.bot_allowlist:
            return None
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return None
        text = plain_text(message)
        if not text:
            return None
        return IncomingMessage(
            channel_id=message.channel.id,
            guild_id=message.guild.id,
            discord_id=message.id,
            author_id=None if via_proxy else message.author.id,
            author_name=display_name(message.author),
            text=text,
            created_at=message.created_at.timestamp(),
            reply_to_discord_id=reply_target_id(message),
            mentions_bot=any(user.id == me.id for user in message.mentions),
            via_proxy=via_proxy,
            received_at=time.monotonic(),
        )

    async def missed_messages(
        self, channel_id: int, after_discord_id: int | None, limit: int
    ) -> list[IncomingMessage]:
        """Player messages after `after_discord_id`, oldest first, filtered like live ones."""
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return []
        after = discord.Object(id=after_discord_id) if after_discord_id else None
        found: list[IncomingMessage] = []
        try:
            async for message in channel.history(limit=limit, after=after, oldest_first=True):
                incoming = self.incoming(message)
                if incoming is not None:
                    found.append(incoming)
        except discord.HTTPException as error:
            raise PortError(str(error), status=error.status, code=error.code) from error
        return found

    def is_age_restricted(self, channel_id: int) -> bool:
        """Whether the channel is age-restricted ("NSFW"); a thread follows its parent."""
        channel = self.client.get_channel(channel_id)
        if isinstance(channel, discord.Thread):
            channel = channel.parent
        return bool(getattr(channel, "nsfw", False))

    def is_available(self, channel_id: int) -> bool:
        """Whether this process sees the channel (its guild is on one of our shards)."""
        return self.client.get_channel(channel_id) is not None

    # ---- replies -----------------------------------------------------------------------------

    async def get_ready(self, channel_id: int, personas: Sequence[Persona]) -> None:
        """Find or create the personas' webhooks in the channel now (a scene just started), so
        its first replies need no lookup; what fails here is met again by the reply.
        """
        channel = self.client.get_channel(channel_id)
        if channel is None:
            return
        for persona in personas:
            try:
                async with asyncio.timeout(self.settings.discord_write_timeout):
                    await self.target_for(channel, persona)
            except (PortError, TimeoutError) as error:
                log.info("No webhook prepared for %s in %s: %s", persona.name, channel_id, error)

    def open_reply(
        self, channel_id: int, persona: Persona, *, message_ids: Sequence[int] = ()
    ) -> DiscordOutlet:
        """The outlet of one reply; its webhook is looked up while the model request flies."""
        channel = self.client.get_channel(channel_id)
        target: ReplyTarget = DeferredTarget(self.target_for(channel, persona))

        async def relocate() -> ReplyTarget:
            self.webhooks.forget(_parent_id(channel), persona.id)
            return await self.target_for(channel, persona)

        async def discard(message_id: int) -> None:
            await self._discard_orphan(channel, message_id)

        typing = getattr(channel, "typing", None)
        return DiscordOutlet(
            target,
            self.pacer,
            channel_id,
            interval=self.settings.stream_edit_interval,
            typing=typing,
            message_ids=tuple(message_ids),
            relocate=relocate,
            discard=discard,
            call_timeout=self.settings.discord_write_timeout,
        )

    async def target_for(
        self, channel: Any, persona: Persona, *, housekeeping: bool = False
    ) -> ReplyTarget:
        """The persona's webhook in this channel, or the bot account as a fallback.

        For `housekeeping` (old buttons) a cached webhook is used as it is: its picture is
        only ever changed when the persona speaks.
        """
        if channel is None:
            raise PortError("the channel is gone or not visible to the bot", status=404)
        parent = channel.parent if isinstance(channel, discord.Thread) else channel
        thread = channel if isinstance(channel, discord.Thread) else None
        if isinstance(parent, discord.TextChannel):
            lookup = self.webhooks.existing if housekeeping else self.webhooks.get
            try:
                webhook = await lookup(parent, persona)
            except discord.HTTPException as error:  # Discord hiccup: speak as the bot this time
                log.warning("Webhook lookup failed in %s: %s", parent.id, error)
                return ChannelTarget(channel, persona.name)
            if webhook is not None:
                return WebhookTarget(
                    webhook, username=persona.name, avatar_url=persona.avatar_url, thread=thread
                )
            if channel.guild is not None and self._alert is not None:
                self._spawn(self._alert(channel.guild.id, AdminAlert.WEBHOOKS, channel.id))
        return ChannelTarget(channel, persona.name)

    async def _discard_orphan(self, channel: Any, message_id: int) -> None:
        """Delete a deleted webhook's message with the bot's own rights, else mark it."""
        partial = channel.get_partial_message(message_id)
        try:
            await self.pacer.take(channel.id)
            await partial.delete()
            return
        except discord.NotFound:
            return
        except discord.HTTPException as error:
            log.info("Could not delete orphaned message %s: %s", message_id, error)
        try:
            await partial.add_reaction(ORPHAN_MARK)
        except discord.HTTPException as error:
            log.info("Could not mark orphaned message %s: %s", message_id, error)

    async def retire_controls(self, channel_id: int, persona: Persona, message_id: int) -> None:
        """Queue the removal of an older reply's buttons; uses spare rate-limit room only."""
        stale = self._stale.setdefault(channel_id, [])
        stale.append((persona, message_id))
        if len(stale) == 1:
            await self._sweep(channel_id)

    async def _sweep(self, channel_id: int) -> None:
        stale = self._stale.get(channel_id, [])
        channel = self.client.get_channel(channel_id)
        while stale:
            persona, message_id = stale[0]
            try:
                target = await self.target_for(channel, persona, housekeeping=True)
                await self.pacer.take_spare(channel_id, bot_token=target.bot_token)
                await target.set_view(message_id, None)
            except (discord.HTTPException, PortError) as error:
                log.debug("Could not remove old reply buttons: %s", error)
            stale.pop(0)
        self._stale.pop(channel_id, None)

    # ---- notices -----------------------------------------------------------------------------

    async def notice(self, channel_id: int, text: str, *, lifetime: float | None = None) -> bool:
        """Post a short notice from the bot; False if Discord refused it."""
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return False
        try:
            await self.pacer.take(channel_id)
            kwargs: dict[str, Any] = {"silent": True, "allowed_mentions": NO_MENTIONS}
            if lifetime is not None:
                kwargs["delete_after"] = lifetime
            await channel.send(text, **kwargs)
        except discord.HTTPException as error:
            log.warning("Could not post a notice in channel %s: %s", channel_id, error)
            return False
        return True

    async def tell_admins(self, guild_id: int, text: str, log_channel_id: int | None) -> bool:
        """Post in the guild's log channel, else DM the owner; False if nobody was reached."""
        if log_channel_id is not None:
            log_channel = self.client.get_channel(log_channel_id)
            if isinstance(log_channel, discord.abc.Messageable):
                try:
                    await log_channel.send(text, allowed_mentions=NO_MENTIONS)
                    return True
                except discord.HTTPException:
                    log.warning("Could not post an admin alert in guild %s's log channel", guild_id)
        guild = self.client.get_guild(guild_id)
        if guild is None or guild.owner_id is None:
            return False
        try:
            owner = guild.owner or await self.client.fetch_user(guild.owner_id)
            await owner.send(f"**{guild.name}**: {text}", allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("Could not DM the owner of guild %s about a problem", guild_id)
            return False
        return True

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel background work."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _parent_id(channel: Any) -> int:
    parent = channel.parent if isinstance(channel, discord.Thread) else channel
    return int(getattr(parent, "id", 0))


__all__ = ["DiscordPort", "Shown"]
