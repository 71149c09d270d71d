"""Where a persona's words go: its own webhook, or the bot's account as a fallback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import discord

from bot.text import sanitize_webhook_name

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
UNKNOWN_WEBHOOK = 10015
DENIED_RETRY_SECONDS = 600.0
WEBHOOK_PREFIX = "Ensemble"


class ReplyTarget(Protocol):
    """Sends and edits the messages of one persona reply."""

    @property
    def header(self) -> str:
        """Text put above every message (the persona's name when posting as the bot)."""
        ...

    @property
    def bot_token(self) -> bool:
        """Whether requests use the bot's token (and so its bot-wide rate limit)."""
        ...

    async def send(self, content: str, *, view: discord.ui.View | None) -> int:
        """Post a new message; returns its id."""
        ...

    async def edit(self, message_id: int, content: str, *, view: discord.ui.View | None) -> None:
        """Replace the content (and buttons) of a message posted by `send`."""
        ...

    async def set_view(self, message_id: int, view: discord.ui.View | None) -> None:
        """Replace only the buttons of a message."""
        ...

    async def delete(self, message_id: int) -> None:
        """Delete a message posted by `send`."""
        ...

    async def ready(self) -> None:
        """Wait until the target is usable (resolving a webhook may take a round trip)."""
        ...


class ChannelTarget:
    """Posts as the bot itself, with the persona's name in bold on top."""

    bot_token = True

    def __init__(self, channel: discord.abc.Messageable, persona_name: str) -> None:
        self._channel = channel
        self.header = f"**{discord.utils.escape_markdown(persona_name)}**\n"

    async def send(self, content: str, *, view: discord.ui.View | None) -> int:
        """Post `content` under the persona's name header."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if view is not None:
            kwargs["view"] = view
        message = await self._channel.send(self.header + content, **kwargs)
        return message.id

    async def edit(self, message_id: int, content: str, *, view: discord.ui.View | None) -> None:
        """Edit a message the bot posted in this channel."""
        partial = self._channel.get_partial_message(message_id)  # type: ignore[attr-defined]
        await partial.edit(content=self.header + content, view=view, allowed_mentions=NO_MENTIONS)

    async def set_view(self, message_id: int, view: discord.ui.View | None) -> None:
        """Change only the buttons."""
        partial = self._channel.get_partial_message(message_id)  # type: ignore[attr-defined]
        await partial.edit(view=view)

    async def delete(self, message_id: int) -> None:
        """Delete a message the bot posted here."""
        partial = self._channel.get_partial_message(message_id)  # type: ignore[attr-defined]
        await partial.delete()

    async def ready(self) -> None:
        """Always ready."""


class WebhookTarget:
    """Posts through a channel webhook under the persona's own name and avatar."""

    header = ""
    bot_token = False

    def __init__(
        self,
        webhook: discord.Webhook,
        *,
        username: str,
        avatar_url: str | None,
        thread: discord.abc.Snowflake | None,
        refresh: Callable[[], Awaitable[discord.Webhook | None]] | None = None,
    ) -> None:
        self.webhook = webhook
        self._refresh = refresh
        self._username = sanitize_webhook_name(username)
        self._avatar_url = avatar_url
        self._thread = thread

    def _thread_kwargs(self) -> dict[str, Any]:
        return {"thread": self._thread} if self._thread is not None else {}

    async def send(self, content: str, *, view: discord.ui.View | None) -> int:
        """Execute the webhook as the persona and return the new message id."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, **self._thread_kwargs()}
        if view is not None:
            kwargs["view"] = view
        if self._avatar_url:
            kwargs["avatar_url"] = self._avatar_url
        try:
            message = await self.webhook.send(content, username=self._username, wait=True, **kwargs)
        except discord.NotFound as error:
            if error.code != UNKNOWN_WEBHOOK or self._refresh is None:
                raise
            webhook = await self._refresh()  # deleted by someone: make a new one, once
            if webhook is None:
                raise
            self.webhook = webhook
            message = await webhook.send(content, username=self._username, wait=True, **kwargs)
        return message.id

    async def edit(self, message_id: int, content: str, *, view: discord.ui.View | None) -> None:
        """Edit one of the persona's webhook messages."""
        await self.webhook.edit_message(
            message_id,
            content=content,
            view=view,
            allowed_mentions=NO_MENTIONS,
            **self._thread_kwargs(),
        )

    async def set_view(self, message_id: int, view: discord.ui.View | None) -> None:
        """Change only the buttons."""
        await self.webhook.edit_message(message_id, view=view, **self._thread_kwargs())

    async def delete(self, message_id: int) -> None:
        """Delete one of the persona's webhook messages."""
        await self.webhook.delete_message(message_id, **self._thread_kwargs())

    async def ready(self) -> None:
        """Always ready."""


class DeferredTarget:
    """A target still being resolved (webhook lookup) while the model request is in flight."""

    def __init__(self, resolving: Awaitable[ReplyTarget]) -> None:
        self._resolving = asyncio.ensure_future(resolving)
        self._target: ReplyTarget | None = None

    @property
    def resolved(self) -> ReplyTarget:
        """The real target; only valid after `ready()`."""
        if self._target is None:
            raise RuntimeError("DeferredTarget used before ready()")
        return self._target

    @property
    def header(self) -> str:
        """The resolved target's header."""
        return self.resolved.header

    @property
    def bot_token(self) -> bool:
        """Whether the resolved target uses the bot's token."""
        return self.resolved.bot_token

    async def ready(self) -> None:
        """Finish resolving (re-raises what resolving raised)."""
        if self._target is None:
            self._target = await self._resolving

    async def send(self, content: str, *, view: discord.ui.View | None) -> int:
        """Send through the resolved target."""
        await self.ready()
        return await self.resolved.send(content, view=view)

    async def edit(self, message_id: int, content: str, *, view: discord.ui.View | None) -> None:
        """Edit through the resolved target."""
        await self.ready()
        await self.resolved.edit(message_id, content, view=view)

    async def set_view(self, message_id: int, view: discord.ui.View | None) -> None:
        """Change buttons through the resolved target."""
        await self.ready()
        await self.resolved.set_view(message_id, view)

    async def delete(self, message_id: int) -> None:
        """Delete through the resolved target."""
        await self.ready()
        await self.resolved.delete(message_id)


class PersonaWebhooks:
    """One webhook per persona per channel: found, created on demand, re-created if deleted."""

    def __init__(self, bot_user_id: int) -> None:
        self._bot_user_id = bot_user_id
        self._cache: dict[tuple[int, str], discord.Webhook] = {}
        self.known_ids: set[int] = set()
        self.denied_until: dict[int, float] = {}
        """Channels where Manage Webhooks was missing, and when to ask Discord again."""

    def is_own(self, webhook_id: int | None) -> bool:
        """Whether a message's webhook is one of ours."""
        return webhook_id is not None and webhook_id in self.known_ids

    def forget(self, channel_id: int, persona_id: str) -> None:
        """Drop a cached webhook (it was deleted in Discord)."""
        webhook = self._cache.pop((channel_id, persona_id), None)
        if webhook is not None:
            self.known_ids.discard(webhook.id)

    async def get(
        self, channel: discord.TextChannel, persona_id: str, persona_name: str
    ) -> discord.Webhook | None:
        """The persona's webhook in `channel`, or None without Manage Webhooks."""
        key = (channel.id, persona_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self.denied_until.get(channel.id, 0.0) > time.monotonic():
            return None
        name = sanitize_webhook_name(f"{WEBHOOK_PREFIX} {persona_name}")
        try:
            for webhook in await channel.webhooks():
                if not self._owned(webhook):
                    continue
                self.known_ids.add(webhook.id)
                if webhook.name == name and webhook.token:
                    self._cache[key] = webhook
                    return webhook
            webhook = await channel.create_webhook(name=name, reason="Ensemble persona voice")
        except discord.Forbidden:  # an admin may grant the permission later: retry then
            self.denied_until[channel.id] = time.monotonic() + DENIED_RETRY_SECONDS
            return None
        self.known_ids.add(webhook.id)
        self._cache[key] = webhook
        return webhook

    def _owned(self, webhook: discord.Webhook) -> bool:
        user = webhook.user
        return user is not None and user.id == self._bot_user_id
