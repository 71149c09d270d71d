"""The state every FakeDiscord mixin shares, plus the helpers they all lean on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core import Core
from .messages import Author
from .payloads import user_payload
from .permissions import Permission
from .rest_webhooks import WebhookRoutes
from .world import Channel, StoredMessage, Webhook, World

AttachmentSpec = Mapping[str, Any] | tuple[str, bytes]
"""An attachment dict from `serve_attachment`, or `(filename, data)` to serve on the fly."""


class FakeBase:
    """Attributes set by `FakeDiscord.__init__` and helpers used across mixins."""

    world: World
    _core: Core
    _webhook_routes: WebhookRoutes
    _proxy_hooks: dict[tuple[int, str], Webhook]

    def message(self, message_id: int) -> StoredMessage:
        """A message by id (deleted ones too: check `.deleted`)."""
        stored = self.world.messages.get(int(message_id))
        if stored is None:
            raise KeyError(f"no message {message_id}")
        return stored

    def serve_attachment(
        self, filename: str, data: bytes, *, content_type: str | None = None
    ) -> dict[str, Any]:
        """Serve bytes at a fake CDN url and return the attachment object."""
        return self._core.attachments.add(filename, data, content_type=content_type)

    def _user_author(self, user_id: int, channel: Channel) -> Author:
        user = self.world.users[user_id]
        return Author(
            payload=user_payload(user),
            user_id=user.id,
            can_mention_everyone=bool(
                self.world.permissions(user_id, channel.id) & Permission.MENTION_EVERYONE
            ),
        )

    def _speaker_channel(self, channel_id: int, user_id: int) -> Channel:
        channel = self.world.channels.get(channel_id)
        if channel is None:
            raise ValueError(f"no channel {channel_id}")
        if user_id not in self.world.users:
            raise ValueError(f"no user {user_id}")
        guild = self.world.guild_of(channel)
        if guild is not None and user_id not in guild.members:
            raise ValueError(
                f"user {user_id} is not a member of guild {guild.id}; add_member first"
            )
        if channel.is_dm and channel.recipient_ids != [user_id]:
            raise ValueError(f"user {user_id} is not the recipient of DM channel {channel_id}")
        return channel
