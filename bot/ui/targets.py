"""Where a persona's words go: its own webhook, or the bot's account as a fallback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.cards import AVATAR_KEY, CardError, webhook_avatar_png
from bot.models import Persona
from bot.text import sanitize_webhook_name

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
INVALID_FORM_BODY = 50035
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

    async def fetch(self, message_id: int) -> str:
        """The current content of a message posted by `send`."""
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

    async def fetch(self, message_id: int) -> str:
        """The message's content, without the persona-name header."""
        message = await self._channel.fetch_message(message_id)
        return str(message.content).removeprefix(self.header)

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
    ) -> None:
        self.webhook = webhook
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
        message = await self.webhook.send(content, username=self._username, wait=True, **kwargs)
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

    async def fetch(self, message_id: int) -> str:
        """The content of one of the persona's webhook messages."""
        message = await self.webhook.fetch_message(message_id, **self._thread_kwargs())
        return message.content

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

    async def fetch(self, message_id: int) -> str:
        """Read through the resolved target."""
        await self.ready()
        return await self.resolved.fetch(message_id)


@dataclass(frozen=True, slots=True)
class WebhookAvatar:
    """A persona's picture ready to be its webhook's own avatar: PNG bytes and their digest."""

    image: bytes
    digest: str

    @classmethod
    def of(cls, image: bytes) -> WebhookAvatar:
        """Wrap `image`, computing its digest once."""
        return cls(image, hashlib.sha256(image).hexdigest())


class PersonaWebhooks:
    """One webhook per persona per channel: found, created on demand, re-created if deleted.

    A persona whose card carries a picture (an imported PNG card) and no `avatar_url` shows
    that picture as its webhook's own avatar, uploaded when the webhook is made and again
    when the picture changes; messages then carry no `avatar_url`. Which picture each webhook
    was given is remembered in memory only, so after a restart a webhook found in Discord has
    its avatar uploaded once more on first use (Discord's avatar hash can't be compared with
    the image).
    """

    def __init__(self, bot_user_id: int) -> None:
        self._bot_user_id = bot_user_id
        self._cache: dict[tuple[int, str], discord.Webhook] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._given: dict[int, str | None] = {}
        """Digest of the picture each webhook was given (or refused) here; None: no picture."""
        self._pictures: dict[str, tuple[object, WebhookAvatar | None]] = {}
        """Each persona's prepared picture, with the stored value it was prepared from."""
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
            self._given.pop(webhook.id, None)

    def picture_of(self, persona: Persona) -> WebhookAvatar | None:
        """The picture the persona's webhook should carry, or None.

        None when the persona has an `avatar_url` (sent with each message instead), has no
        picture, or has one that can't be used (logged once per picture).
        """
        if persona.avatar_url:
            return None
        stored = persona.card.get(AVATAR_KEY)
        if stored is None:
            return None
        cached = self._pictures.get(persona.id)
        if cached is not None and cached[0] == stored:
            return cached[1]
        picture: WebhookAvatar | None = None
        try:
            image = webhook_avatar_png(persona.card, source=f"persona {persona.id!r}")
        except CardError as error:
            log.warning("%s speaks without its picture: %s", persona.name, error)
        else:
            picture = WebhookAvatar.of(image) if image is not None else None
        self._pictures[persona.id] = (stored, picture)
        return picture

    async def existing(
        self, channel: discord.TextChannel, persona: Persona
    ) -> discord.Webhook | None:
        """The persona's webhook as cached, whatever picture it wears (for housekeeping)."""
        cached = self._cache.get((channel.id, persona.id))
        return cached if cached is not None else await self.get(channel, persona)

    async def get(self, channel: discord.TextChannel, persona: Persona) -> discord.Webhook | None:
        """The persona's webhook in `channel`, wearing its picture; None without Manage Webhooks."""
        key = (channel.id, persona.id)
        picture = self.picture_of(persona)
        cached = self._cache.get(key)
        if cached is not None and self._has(cached, picture):
            return cached
        async with self._locks.setdefault(key, asyncio.Lock()):
            webhook = self._cache.get(key)
            if webhook is None:
                webhook = await self._find_or_create(channel, key, persona.name, picture)
            if webhook is not None and not self._has(webhook, picture):
                await self._give(webhook, picture)
            return webhook

    async def _find_or_create(
        self,
        channel: discord.TextChannel,
        key: tuple[int, str],
        persona_name: str,
        picture: WebhookAvatar | None,
    ) -> discord.Webhook | None:
        if self.denied_until.get(channel.id, 0.0) > time.monotonic():
            return None
        name = sanitize_webhook_name(f"{WEBHOOK_PREFIX} {persona_name}")
        try:
            for webhook in await channel.webhooks():
                if not self._owned(webhook):
                    continue
                self.known_ids.add(webhook.id)
                if webhook.name == name and webhook.token:
                    if webhook.avatar is None and picture is None:
                        self._given[webhook.id] = None  # already as wanted
                    self._cache[key] = webhook
                    return webhook
            webhook = await self._create(channel, name, picture)
        except discord.Forbidden:  # an admin may grant the permission later: retry then
            self.denied_until[channel.id] = time.monotonic() + DENIED_RETRY_SECONDS
            return None
        self.known_ids.add(webhook.id)
        self._cache[key] = webhook
        return webhook

    async def _create(
        self, channel: discord.TextChannel, name: str, picture: WebhookAvatar | None
    ) -> discord.Webhook:
        reason = "Ensemble persona voice"
        if picture is None:
            webhook = await channel.create_webhook(name=name, reason=reason)
        else:
            try:
                webhook = await channel.create_webhook(
                    name=name, avatar=picture.image, reason=reason
                )
            except discord.HTTPException as error:
                if error.code != INVALID_FORM_BODY:
                    raise
                log.warning("Discord refused the picture for webhook %r: %s", name, error)
                webhook = await channel.create_webhook(name=name, reason=reason)
        self._given[webhook.id] = picture.digest if picture else None
        return webhook

    def _has(self, webhook: discord.Webhook, picture: WebhookAvatar | None) -> bool:
        """Whether the webhook was already given this picture (or none) in this process."""
        wanted = picture.digest if picture else None
        return webhook.id in self._given and self._given[webhook.id] == wanted

    async def _give(self, webhook: discord.Webhook, picture: WebhookAvatar | None) -> None:
        """Upload the picture as the webhook's avatar (None clears it).

        A refusal is logged and remembered, so a picture Discord won't take costs one request,
        not one per turn.
        """
        try:
            await webhook.edit(
                avatar=picture.image if picture else None, reason="Ensemble persona picture"
            )
        except discord.HTTPException as error:
            log.warning("Could not change the picture of webhook %r: %s", webhook.name, error)
        self._given[webhook.id] = picture.digest if picture else None

    def _owned(self, webhook: discord.Webhook) -> bool:
        user = webhook.user
        return user is not None and user.id == self._bot_user_id
