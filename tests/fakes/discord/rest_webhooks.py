"""REST routes for incoming webhooks: manage, execute and edit (interaction tokens delegate)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from aiohttp import web

from .bodies import body_of, json_object, query_flag, snowflake_param
from .core import Core, RateLimitedError
from .errors import (
    DiscordError,
    field_error,
    invalid_form_body,
    invalid_webhook_token,
    json_response,
    unknown_channel,
    unknown_message,
    unknown_webhook,
    wrong_channel_type,
)
from .interactions import FakeInteraction
from .payloads import webhook_payload
from .permissions import Permission
from .rest_interactions import InteractionRoutes
from .validation import check_webhook_username
from .world import Channel, ChannelType, StoredMessage, Webhook

MAX_WEBHOOKS_PER_CHANNEL = 15
IMAGE_DATA = re.compile(r"data:(image/(?:png|jpeg|gif|webp));base64,(.+)", re.DOTALL)
IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def image_data(value: Any) -> tuple[bytes, str] | None:
    """Decode an `avatar` field: a data URI of a PNG/JPEG/GIF/WebP image, or null to clear.

    Anything else (not a data URI, not base64, bytes that are not the declared image type)
    is answered like Discord: 400 50035 with an IMAGE_INVALID error on `avatar`.
    """
    if value is None:
        return None
    match = IMAGE_DATA.fullmatch(value) if isinstance(value, str) else None
    image = b""
    if match is not None:
        try:
            image = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            image = b""
    if match is None or not image.startswith(IMAGE_MAGIC[match.group(1)]):
        raise invalid_form_body({"avatar": field_error("IMAGE_INVALID", "Invalid image data")})
    return image, match.group(1)


class WebhookRoutes:
    """Handlers for `/channels/{id}/webhooks`, `/guilds/{id}/webhooks` and `/webhooks/...`."""

    def __init__(self, core: Core, interactions: InteractionRoutes) -> None:
        self.core = core
        self.interactions = interactions

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        """Add the routes."""
        router.add_get(prefix + "/channels/{channel_id}/webhooks", self.list_channel)
        router.add_post(prefix + "/channels/{channel_id}/webhooks", self.create)
        router.add_get(prefix + "/guilds/{guild_id}/webhooks", self.list_guild)
        hook = prefix + "/webhooks/{webhook_id}"
        router.add_get(hook, self.get)
        router.add_patch(hook, self.modify)
        router.add_delete(hook, self.delete)
        router.add_get(hook + "/{token}", self.get_with_token)
        router.add_patch(hook + "/{token}", self.modify_with_token)
        router.add_delete(hook + "/{token}", self.delete_with_token)
        router.add_post(hook + "/{token}", self.execute)
        message = hook + "/{token}/messages/{message_id}"
        router.add_get(message, self.message)
        router.add_patch(message, self.message)
        router.add_delete(message, self.message)

    # -- management (bot auth) --------------------------------------------------------------

    def _hook(self, request: web.Request) -> Webhook:
        hook = self.core.world.webhooks.get(snowflake_param(request, "webhook_id"))
        if hook is None:
            raise unknown_webhook()
        return hook

    def _managed_channel(self, channel_id: int) -> Channel:
        channel = self.core.channel(channel_id)
        self.core.require(channel, Permission.MANAGE_WEBHOOKS)
        return channel

    async def list_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/webhooks (needs MANAGE_WEBHOOKS)."""
        channel = self._managed_channel(snowflake_param(request, "channel_id"))
        if channel.type is not ChannelType.GUILD_TEXT:
            raise wrong_channel_type()
        hooks = [h for h in self.core.world.webhooks.values() if h.channel_id == channel.id]
        return json_response([webhook_payload(self.core.world, h) for h in hooks])

    async def list_guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/webhooks."""
        guild_id = snowflake_param(request, "guild_id")
        if guild_id not in self.core.world.guilds:
            raise DiscordError(404, 10004, "Unknown Guild")
        hooks = [
            h
            for h in self.core.world.webhooks.values()
            if h.guild_id == guild_id
            and self.core.bot_can(
                self.core.world.channels[h.channel_id], Permission.MANAGE_WEBHOOKS
            )
        ]
        return json_response([webhook_payload(self.core.world, h) for h in hooks])

    async def create(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/webhooks (text channels only; 403 50013 without MANAGE_WEBHOOKS)."""
        channel = self._managed_channel(snowflake_param(request, "channel_id"))
        if channel.type is not ChannelType.GUILD_TEXT:
            raise wrong_channel_type()
        body = json_object(request)
        name = body.get("name")
        check_webhook_username(name if isinstance(name, str) else "")
        existing = [h for h in self.core.world.webhooks.values() if h.channel_id == channel.id]
        if len(existing) >= MAX_WEBHOOKS_PER_CHANNEL:
            raise DiscordError(400, 30007, "Maximum number of webhooks reached (15)")
        avatar = image_data(body.get("avatar"))
        world = self.core.world
        hook = world.add_webhook(
            channel.id,
            str(name),
            application_id=world.application.id,
            creator_id=world.bot_user.id,
            avatar_image=avatar[0] if avatar else None,
            avatar_type=avatar[1] if avatar else None,
        )
        self._announce(hook)
        return json_response(webhook_payload(world, hook))

    async def get(self, request: web.Request) -> web.Response:
        """GET /webhooks/{id}."""
        hook = self._hook(request)
        self._managed_channel(hook.channel_id)
        return json_response(webhook_payload(self.core.world, hook))

    async def modify(self, request: web.Request) -> web.Response:
        """PATCH /webhooks/{id}: name, avatar, channel_id."""
        hook = self._hook(request)
        self._managed_channel(hook.channel_id)
        body = json_object(request)
        target = self._managed_channel(int(body["channel_id"])) if "channel_id" in body else None
        self._apply(hook, body)
        if target is not None:
            hook.channel_id = target.id
        self._announce(hook)
        return json_response(webhook_payload(self.core.world, hook))

    def _apply(self, hook: Webhook, body: dict[str, Any]) -> None:
        """Validate, then apply, a modify body's `name` and `avatar` (null clears the avatar)."""
        if "name" in body:
            check_webhook_username(body["name"])
        avatar = image_data(body["avatar"]) if "avatar" in body else None
        if "name" in body:
            hook.name = str(body["name"])
        if "avatar" in body:
            hook.set_avatar(*(avatar or (None, None)))

    async def delete(self, request: web.Request) -> web.Response:
        """DELETE /webhooks/{id}."""
        hook = self._hook(request)
        self._managed_channel(hook.channel_id)
        self.remove(hook)
        return web.Response(status=204)

    def remove(self, hook: Webhook) -> None:
        """Delete a webhook and dispatch WEBHOOKS_UPDATE."""
        self.core.world.webhooks.pop(hook.id, None)
        self._announce(hook)

    def _announce(self, hook: Webhook) -> None:
        self.core.hub.dispatch(
            "WEBHOOKS_UPDATE",
            {"guild_id": str(hook.guild_id), "channel_id": str(hook.channel_id)},
            guild_id=hook.guild_id,
        )

    # -- token routes -----------------------------------------------------------------------

    def _hook_with_token(self, request: web.Request) -> Webhook:
        hook = self._hook(request)
        if hook.token != request.match_info["token"]:
            raise invalid_webhook_token()
        return hook

    def _interaction(self, request: web.Request) -> FakeInteraction | None:
        return self.interactions.owns(
            snowflake_param(request, "webhook_id"), request.match_info["token"]
        )

    async def get_with_token(self, request: web.Request) -> web.Response:
        """GET /webhooks/{id}/{token} (no `user` field, as Discord omits it here)."""
        hook = self._hook_with_token(request)
        payload = webhook_payload(self.core.world, hook)
        payload.pop("user", None)
        return json_response(payload)

    async def modify_with_token(self, request: web.Request) -> web.Response:
        """PATCH /webhooks/{id}/{token}: name and avatar (`channel_id` needs the bot token)."""
        hook = self._hook_with_token(request)
        self._apply(hook, json_object(request))
        self._announce(hook)
        payload = webhook_payload(self.core.world, hook)
        payload.pop("user", None)
        return json_response(payload)

    async def delete_with_token(self, request: web.Request) -> web.Response:
        """DELETE /webhooks/{id}/{token}."""
        self.remove(self._hook_with_token(request))
        return web.Response(status=204)

    def _target_channel(self, request: web.Request, hook: Webhook) -> Channel:
        raw = request.query.get("thread_id")
        if raw is None:
            return self.core.channel(hook.channel_id)
        thread = self.core.world.channels.get(int(raw)) if raw.isdigit() else None
        if thread is None or not thread.is_thread:
            raise unknown_channel()
        if thread.parent_id != hook.channel_id:
            raise DiscordError(
                400, 220001, "Webhooks can only post in threads of their own channel"
            )
        return thread

    async def execute(self, request: web.Request) -> web.Response:
        """POST /webhooks/{id}/{token} with `wait`, `thread_id`, `username`, `avatar_url`."""
        interaction = self._interaction(request)
        if interaction is not None:
            return await self.interactions.followup(request, interaction)
        hook = self._hook_with_token(request)
        channel = self._target_channel(request, hook)
        self._limit_write(request, channel.id, hidden=True)
        body = json_object(request)
        username = body.get("username")
        check_webhook_username(username)
        if channel.archived:
            channel.archived = False
        stored = self.core.messages.create(
            channel,
            self.core.webhook_author(hook, username),
            body,
            body_of(request).files,
            avatar_url=body.get("avatar_url"),
        )
        if not query_flag(request, "wait"):
            return web.Response(status=204)
        return json_response(stored.payload)

    def _limit_write(self, request: web.Request, channel_id: int, *, hidden: bool) -> None:
        """Count a webhook write in the channel's bucket, and executes and edits in the hidden
        per-channel webhook limit too (checked first, counted only once accepted).
        """
        limiter = self.core.limiter
        hidden = hidden and limiter.config.enabled
        key = f"channel:{channel_id}"
        if hidden:
            verdict = limiter.check_hidden(key)
            if not verdict.allowed:
                raise RateLimitedError(verdict)
        self.core.limit_channel(request, channel_id)
        if hidden:
            limiter.count_hidden(key)

    def _webhook_message(self, request: web.Request, hook: Webhook) -> StoredMessage:
        channel = self._target_channel(request, hook)
        ref = request.match_info["message_id"]
        stored = self.core.messages.find(channel.id, int(ref)) if ref.isdigit() else None
        if stored is None or stored.webhook_id != hook.id:
            raise unknown_message()
        return stored

    async def message(self, request: web.Request) -> web.Response:
        """GET/PATCH/DELETE /webhooks/{id}/{token}/messages/{message_id} (`thread_id` aware)."""
        interaction = self._interaction(request)
        if interaction is not None:
            return await self.interactions.message(
                request, interaction, request.match_info["message_id"]
            )
        hook = self._hook_with_token(request)
        stored = self._webhook_message(request, hook)
        if request.method == "GET":
            return json_response(stored.payload)
        self._limit_write(request, stored.channel_id, hidden=request.method == "PATCH")
        if request.method == "DELETE":
            self.core.messages.delete(stored)
            return web.Response(status=204)
        author = self.core.webhook_author(hook, stored.username)
        self.core.messages.edit(stored, author, json_object(request), body_of(request).files)
        return json_response(stored.payload)
