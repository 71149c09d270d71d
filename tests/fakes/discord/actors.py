"""Actor helpers of FakeDiscord: what users, proxies and moderators do, dispatched live."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .base import AttachmentSpec, FakeBase
from .messages import Author
from .payloads import (
    channel_payload,
    member_payload,
    role_payload,
    thread_payload,
)
from .world import Channel


class ActorsMixin(FakeBase):
    """Async actions that change the world and dispatch the matching gateway events."""

    async def user_says(
        self,
        channel_id: int,
        user_id: int,
        content: str = "",
        *,
        mentions: Iterable[int] = (),
        reply_to: int | None = None,
        ping_reply: bool = True,
        attachments: Iterable[AttachmentSpec] = (),
        embeds: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE); returns a snapshot of the message object.

        `<@id>` in `content` mentions users as on Discord; `mentions` adds more user ids.
        `reply_to` makes it a reply (type 19) that pings the replied author unless `ping_reply`
        is False.
        """
        channel = self._speaker_channel(channel_id, user_id)
        files = [self._attachment(a) for a in attachments]
        body: dict[str, Any] = {"content": content, "embeds": [dict(e) for e in embeds]}
        if reply_to is not None:
            body["message_reference"] = {"message_id": str(reply_to), "channel_id": str(channel_id)}
            if not ping_reply:
                body["allowed_mentions"] = {
                    "parse": ["users", "roles", "everyone"],
                    "replied_user": False,
                }
        if files:
            body["attachments"] = files
        stored = self._core.messages.create(
            channel,
            self._user_author(user_id, channel),
            body,
            extra_mentions=mentions,
            allowed_flags=0,
        )
        await self._core.hub.drain()
        return copy.deepcopy(stored.payload)

    def _attachment(self, spec: AttachmentSpec) -> dict[str, Any]:
        if isinstance(spec, tuple):
            return self.serve_attachment(spec[0], spec[1])
        return dict(spec)

    async def user_edits(self, message_id: int, content: str) -> dict[str, Any]:
        """The author edits a message's content (MESSAGE_UPDATE with the full object)."""
        stored = self.message(message_id)
        channel = self.world.channels[stored.channel_id]
        if stored.webhook_id is not None:
            hook = self.world.webhooks.get(stored.webhook_id)
            author = (
                self._core.webhook_author(hook, stored.username)
                if hook is not None
                else Author(payload=stored.payload["author"], webhook_id=stored.webhook_id)
            )
        else:
            author = self._user_author(stored.author_id, channel)
        self._core.messages.edit(stored, author, {"content": content})
        await self._core.hub.drain()
        return copy.deepcopy(stored.payload)

    async def user_deletes(self, message_id: int) -> None:
        """Delete any message, the bot's included (MESSAGE_DELETE); later edits get 404 10008."""
        self._core.messages.delete(self.message(message_id))
        await self._core.hub.drain()

    async def user_types(self, channel_id: int, user_id: int) -> None:
        """A user starts typing (TYPING_START)."""
        channel = self._speaker_channel(channel_id, user_id)
        data: dict[str, Any] = {
            "channel_id": str(channel.id),
            "user_id": str(user_id),
            "timestamp": int(time.time()),
        }
        guild = self.world.guild_of(channel)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            data["member"] = member_payload(self.world, guild.members[user_id])
        self._core.hub.dispatch("TYPING_START", data, guild_id=channel.guild_id)
        await self._core.hub.drain()

    async def proxy_says(
        self,
        channel_id: int,
        name: str,
        content: str,
        *,
        avatar_url: str | None = None,
        replaces: int | None = None,
        system: str = "PluralKit",
    ) -> dict[str, Any]:
        """A PluralKit/Tupperbox-style proxy posts as `name` through its webhook.

        With `replaces`, the original message is deleted afterwards, as the proxy bots do.
        """
        channel = self.world.channels[channel_id]
        parent_id = channel.parent_id if channel.is_thread and channel.parent_id else channel.id
        key = (parent_id, system)
        hook = self._proxy_hooks.get(key)
        if hook is None or hook.id not in self.world.webhooks:
            owner = next(
                (u for u in self.world.users.values() if u.bot and u.username == system), None
            )
            if owner is None:
                owner = self.world.add_user(system, bot=True)
            hook = self.world.add_webhook(
                parent_id,
                f"{system} Proxy Webhook",
                application_id=owner.id,
                creator_id=owner.id,
            )
            self._proxy_hooks[key] = hook
        stored = self._core.messages.create(
            channel,
            self._core.webhook_author(hook, name),
            {"content": content},
            avatar_url=avatar_url,
        )
        if replaces is not None:
            self._core.messages.delete(self.message(replaces))
        await self._core.hub.drain()
        return copy.deepcopy(stored.payload)

    async def user_creates_thread(
        self, channel_id: int, user_id: int, name: str, *, private: bool = False
    ) -> Channel:
        """A user opens a thread in a text channel (THREAD_CREATE)."""
        self._speaker_channel(channel_id, user_id)
        thread = self.world.add_thread(channel_id, name, owner_id=user_id, private=private)
        payload = {**thread_payload(self.world, thread), "newly_created": True}
        self._core.hub.dispatch("THREAD_CREATE", payload, guild_id=thread.guild_id)
        await self._core.hub.drain()
        return thread

    async def admin_sets_age_restricted(self, channel_id: int, nsfw: bool) -> None:
        """An admin turns the channel's "Age-Restricted Channel" setting on or off."""
        channel = self.world.channels[channel_id]
        channel.nsfw = nsfw
        payload = channel_payload(self.world, channel)
        self._core.hub.dispatch("CHANNEL_UPDATE", payload, guild_id=channel.guild_id)
        await self._core.hub.drain()

    async def announce_guild(self, guild_id: int) -> None:
        """Dispatch GUILD_CREATE for a guild built after the bot connected (on_guild_join)."""
        guild = self.world.guilds[guild_id]
        self._core.hub.dispatch_guild_create(guild)
        await self._core.hub.drain()

    async def announce_channel(self, channel_id: int) -> None:
        """Dispatch CHANNEL_CREATE (THREAD_CREATE for threads) for a channel built later."""
        channel = self.world.channels[channel_id]
        if channel.is_thread:
            payload = {**thread_payload(self.world, channel), "newly_created": True}
            self._core.hub.dispatch("THREAD_CREATE", payload, guild_id=channel.guild_id)
        else:
            payload = channel_payload(self.world, channel)
            self._core.hub.dispatch("CHANNEL_CREATE", payload, guild_id=channel.guild_id)
        await self._core.hub.drain()

    async def announce_role(self, role_id: int) -> None:
        """Dispatch GUILD_ROLE_CREATE for a role built after the bot connected."""
        guild = next(g for g in self.world.guilds.values() if role_id in g.roles)
        data = {"guild_id": str(guild.id), "role": role_payload(guild.roles[role_id])}
        self._core.hub.dispatch("GUILD_ROLE_CREATE", data, guild_id=guild.id)
        await self._core.hub.drain()

    async def announce_member(self, guild_id: int, user_id: int) -> None:
        """Dispatch GUILD_MEMBER_ADD (needs the members intent) for a member added later."""
        member = self.world.guilds[guild_id].members[user_id]
        data = {**member_payload(self.world, member), "guild_id": str(guild_id)}
        self._core.hub.dispatch("GUILD_MEMBER_ADD", data, guild_id=guild_id)
        await self._core.hub.drain()

    async def delete_webhook(self, webhook_id: int) -> None:
        """Someone deletes a webhook out from under the bot (later executes get 404 10015)."""
        self._webhook_routes.remove(self.world.webhooks[webhook_id])
        await self._core.hub.drain()

    async def push(self, event: str, data: dict[str, Any], *, guild_id: int | None = None) -> int:
        """Dispatch a raw gateway event; returns how many sessions received it."""
        delivered = self._core.hub.dispatch(event, data, guild_id=guild_id)
        await self._core.hub.drain()
        return delivered
