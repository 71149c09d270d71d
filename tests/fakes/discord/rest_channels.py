"""REST routes under /channels: messages, typing, threads and pins."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .bodies import body_of, json_object, snowflake_param
from .core import Core
from .errors import (
    DiscordError,
    cannot_edit_others,
    field_error,
    invalid_form_body,
    json_response,
    missing_access,
    missing_permissions,
    unknown_message,
    wrong_channel_type,
)
from .gateway import redact_message
from .intents import Intent
from .messages import FLAG_EPHEMERAL, FLAG_HAS_THREAD
from .payloads import channel_payload, thread_payload
from .permissions import Permission
from .snowflakes import now_iso
from .validation import check_thread_name
from .world import Channel, ChannelType, StoredMessage


class ChannelRoutes:
    """Handlers for `/channels/...`."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        """Add the routes; pins before `{message_id}` so they win."""
        base = prefix + "/channels/{channel_id}"
        router.add_get(base, self.get_channel)
        router.add_patch(base, self.modify_channel)
        router.add_get(base + "/pins", self.legacy_pins)
        router.add_get(base + "/messages/pins", self.list_pins)
        router.add_put(base + "/messages/pins/{message_id}", self.pin)
        router.add_delete(base + "/messages/pins/{message_id}", self.unpin)
        router.add_post(base + "/messages", self.create_message)
        router.add_get(base + "/messages", self.list_messages)
        router.add_get(base + "/messages/{message_id}", self.get_message)
        router.add_patch(base + "/messages/{message_id}", self.edit_message)
        router.add_delete(base + "/messages/{message_id}", self.delete_message)
        router.add_post(base + "/messages/{message_id}/threads", self.thread_from_message)
        router.add_post(base + "/threads", self.create_thread)
        router.add_put(base + "/thread-members/@me", self.join_thread)
        router.add_post(base + "/typing", self.typing)

    # -- helpers --------------------------------------------------------------------------

    def _channel(self, request: web.Request) -> Channel:
        channel = self.core.channel(snowflake_param(request, "channel_id"))
        self.core.require_view(channel)
        return channel

    def _message(self, request: web.Request, channel: Channel) -> StoredMessage:
        stored = self.core.messages.find(channel.id, snowflake_param(request, "message_id"))
        if stored is None:
            raise unknown_message()
        return stored

    def _readable(self, stored: StoredMessage, channel: Channel) -> dict[str, Any]:
        """REST reads honour the MESSAGE_CONTENT approval of the application."""
        world = self.core.world
        if channel.guild_id is None or world.application.approved_intents & Intent.MESSAGE_CONTENT:
            return stored.payload
        return redact_message(stored.payload, world.bot_user.id)

    # -- channels -------------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}."""
        channel = self._channel(request)
        return json_response(channel_payload(self.core.world, channel))

    async def modify_channel(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}: name, topic, slowmode; archived/locked/auto-archive on threads."""
        channel = self._channel(request)
        bot_id = self.core.world.bot_user.id
        if channel.is_thread:
            if channel.owner_id != bot_id:
                self.core.require(channel, Permission.MANAGE_THREADS)
        elif not channel.is_dm:
            self.core.require(channel, Permission.MANAGE_CHANNELS)
        else:
            raise wrong_channel_type()
        body = json_object(request)
        if "name" in body:
            check_thread_name(body["name"])
            channel.name = str(body["name"])
        if "topic" in body and not channel.is_thread:
            channel.topic = body["topic"]
        if "rate_limit_per_user" in body:
            channel.rate_limit_per_user = int(body["rate_limit_per_user"] or 0)
        if "nsfw" in body and not channel.is_thread:
            channel.nsfw = bool(body["nsfw"])
        if channel.is_thread:
            if "locked" in body:
                if not self.core.bot_can(channel, Permission.MANAGE_THREADS):
                    raise missing_permissions()
                channel.locked = bool(body["locked"])
            if "archived" in body:
                channel.archived = bool(body["archived"])
            if "auto_archive_duration" in body:
                channel.auto_archive_duration = int(body["auto_archive_duration"])
        payload = channel_payload(self.core.world, channel)
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        self.core.hub.dispatch(event, payload, guild_id=channel.guild_id)
        return json_response(payload)

    # -- messages -------------------------------------------------------------------------

    async def create_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages (JSON or multipart)."""
        channel = self._channel(request)
        self.core.limit_channel(request, channel.id)
        body = body_of(request)
        self.core.require(channel, self.core.send_permission(channel))
        if body.files:
            self.core.require(channel, Permission.ATTACH_FILES)
        if channel.locked and not self.core.bot_can(channel, Permission.MANAGE_THREADS):
            raise missing_permissions()
        if channel.archived:
            channel.archived = False  # posting into an archived thread reopens it
        stored = self.core.messages.create(
            channel, self.core.bot_author(channel), json_object(request), body.files
        )
        return json_response(stored.payload)

    async def list_messages(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages with `limit`, `before`, `after`, `around`."""
        channel = self._channel(request)
        if not self.core.bot_can(channel, Permission.READ_MESSAGE_HISTORY):
            return json_response([])
        limit = int(request.query.get("limit", "50"))
        if not 1 <= limit <= 100:
            raise invalid_form_body(
                {"limit": field_error("NUMBER_TYPE_MAX", "int value should be <= 100 and >= 1.")}
            )
        messages = [
            m for m in self.core.world.live_messages(channel.id) if not m.flags & FLAG_EPHEMERAL
        ]
        if "before" in request.query:
            before = int(request.query["before"])
            picked = [m for m in messages if m.id < before][-limit:]
        elif "after" in request.query:
            after = int(request.query["after"])
            picked = [m for m in messages if m.id > after][:limit]
        elif "around" in request.query:
            around = int(request.query["around"])
            older = [m for m in messages if m.id <= around][-(limit // 2 + limit % 2) :]
            newer = [m for m in messages if m.id > around][: limit // 2]
            picked = older + newer
        else:
            picked = messages[-limit:]
        picked.sort(key=lambda m: m.id, reverse=True)
        return json_response([self._readable(m, channel) for m in picked])

    async def get_message(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/{message_id}."""
        channel = self._channel(request)
        if not self.core.bot_can(channel, Permission.READ_MESSAGE_HISTORY):
            raise missing_access()
        stored = self._message(request, channel)
        if stored.flags & FLAG_EPHEMERAL:
            raise unknown_message()
        return json_response(self._readable(stored, channel))

    async def edit_message(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}/messages/{message_id}: only the bot's own messages."""
        channel = self._channel(request)
        self.core.limit_channel(request, channel.id)
        stored = self._message(request, channel)
        if stored.author_id != self.core.world.bot_user.id or stored.webhook_id is not None:
            raise cannot_edit_others()
        body = body_of(request)
        self.core.messages.edit(
            stored, self.core.bot_author(channel), json_object(request), body.files
        )
        return json_response(stored.payload)

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/messages/{message_id} (others' need MANAGE_MESSAGES)."""
        channel = self._channel(request)
        self.core.limit_channel(request, channel.id)
        stored = self._message(request, channel)
        own = stored.author_id == self.core.world.bot_user.id and stored.webhook_id is None
        if not own:
            self.core.require(channel, Permission.MANAGE_MESSAGES)
        self.core.messages.delete(stored)
        return web.Response(status=204)

    async def typing(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/typing: 204 and a TYPING_START for the bot."""
        channel = self._channel(request)
        self.core.require(channel, self.core.send_permission(channel))
        data: dict[str, Any] = {
            "channel_id": str(channel.id),
            "user_id": str(self.core.world.bot_user.id),
            "timestamp": int(time.time()),
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        self.core.hub.dispatch("TYPING_START", data, guild_id=channel.guild_id)
        return web.Response(status=204)

    # -- threads --------------------------------------------------------------------------

    async def create_thread(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/threads (a thread without a starter message)."""
        channel = self._channel(request)
        if "use_nested_fields" in request.query:
            raise wrong_channel_type()  # forum posts are not modelled
        if channel.type is not ChannelType.GUILD_TEXT:
            raise wrong_channel_type()
        body = json_object(request)
        check_thread_name(body.get("name"))
        private = int(body.get("type") or ChannelType.PRIVATE_THREAD) == ChannelType.PRIVATE_THREAD
        needed = Permission.CREATE_PRIVATE_THREADS if private else Permission.CREATE_PUBLIC_THREADS
        self.core.require(channel, needed)
        thread = self.core.world.add_thread(channel.id, str(body["name"]), private=private)
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        return json_response(self._announce_thread(thread))

    async def thread_from_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/{message_id}/threads (thread id == message id)."""
        channel = self._channel(request)
        if channel.type is not ChannelType.GUILD_TEXT:
            raise wrong_channel_type()
        stored = self._message(request, channel)
        body = json_object(request)
        check_thread_name(body.get("name"))
        self.core.require(channel, Permission.CREATE_PUBLIC_THREADS)
        if stored.id in self.core.world.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        thread = self.core.world.add_thread(channel.id, str(body["name"]), thread_id=stored.id)
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        payload = self._announce_thread(thread)
        stored.payload["flags"] = stored.flags | FLAG_HAS_THREAD
        stored.payload["thread"] = thread_payload(self.core.world, thread)
        self.core.messages.dispatch("MESSAGE_UPDATE", stored)
        return json_response(payload)

    def _announce_thread(self, thread: Channel) -> dict[str, Any]:
        payload = thread_payload(self.core.world, thread)
        payload["member"] = {
            "id": str(thread.id),
            "user_id": str(self.core.world.bot_user.id),
            "join_timestamp": now_iso(),
            "flags": 0,
        }
        self.core.hub.dispatch(
            "THREAD_CREATE", {**payload, "newly_created": True}, guild_id=thread.guild_id
        )
        return payload

    async def join_thread(self, request: web.Request) -> web.Response:
        """PUT /channels/{id}/thread-members/@me."""
        channel = self._channel(request)
        if not channel.is_thread:
            raise wrong_channel_type()
        return web.Response(status=204)

    # -- pins -----------------------------------------------------------------------------

    async def list_pins(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/pins."""
        channel = self._channel(request)
        pinned = [
            m for m in reversed(self.core.world.live_messages(channel.id)) if m.payload["pinned"]
        ]
        items = [{"pinned_at": now_iso(), "message": self._readable(m, channel)} for m in pinned]
        return json_response({"items": items, "has_more": False})

    async def legacy_pins(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/pins (the pre-2025 shape: a plain list)."""
        channel = self._channel(request)
        pinned = [
            m for m in reversed(self.core.world.live_messages(channel.id)) if m.payload["pinned"]
        ]
        return json_response([self._readable(m, channel) for m in pinned])

    async def pin(self, request: web.Request) -> web.Response:
        """PUT /channels/{id}/messages/pins/{message_id}."""
        return self._set_pinned(request, True)

    async def unpin(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/messages/pins/{message_id}."""
        return self._set_pinned(request, False)

    def _set_pinned(self, request: web.Request, pinned: bool) -> web.Response:
        channel = self._channel(request)
        self.core.require(channel, Permission.MANAGE_MESSAGES)
        stored = self._message(request, channel)
        stored.payload["pinned"] = pinned
        self.core.messages.dispatch("MESSAGE_UPDATE", stored)
        data: dict[str, Any] = {"channel_id": str(channel.id), "last_pin_timestamp": now_iso()}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        self.core.hub.dispatch("CHANNEL_PINS_UPDATE", data, guild_id=channel.guild_id)
        return web.Response(status=204)
