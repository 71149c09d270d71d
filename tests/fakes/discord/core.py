"""Shared state and checks every REST route handler works with."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .attachments import AttachmentStore
from .commands import CommandStore
from .errors import (
    DiscordError,
    json_response,
    missing_access,
    missing_permissions,
    unknown_channel,
)
from .faults import Faults
from .gateway import GatewayHub
from .interactions import InteractionStore
from .messages import Author, MessageService
from .payloads import user_payload, webhook_author
from .permissions import Permission
from .ratelimit import RateLimiter, Verdict
from .recording import Recorder
from .world import Channel, Webhook, World

RATELIMIT_HEADERS_KEY = web.RequestKey("fake_discord_ratelimit_headers", dict[str, str])


class RateLimitedError(DiscordError):
    """A 429 from the emulated limiter, with Discord's body and headers."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(429, 0, "You are being rate limited.")
        self.verdict = verdict

    def body(self) -> dict[str, Any]:
        """Discord's 429 body."""
        return {
            "message": self.message,
            "retry_after": round(self.verdict.retry_after, 3),
            "global": False,
            "code": 0,
        }

    def response(self) -> web.Response:
        """The 429 response with Retry-After, Via and (in headers mode) X-RateLimit-*."""
        return json_response(self.body(), status=429, headers=self.verdict.headers)


@dataclass
class Timing:
    """Interaction deadlines, in seconds on the fake's clock."""

    ack_deadline: float = 3.0
    token_lifetime: float = 15 * 60.0


class Core:
    """Everything a route handler needs: world, gateway, stores, limiter and checks."""

    def __init__(
        self,
        *,
        world: World,
        hub: GatewayHub,
        attachments: AttachmentStore,
        recorder: Recorder,
        token: str,
        timing: Timing,
    ) -> None:
        self.world = world
        self.hub = hub
        self.attachments = attachments
        self.recorder = recorder
        self.token = token
        self.timing = timing
        self.clock_offset = 0.0
        self.internal_errors: list[str] = []
        self.messages = MessageService(world, hub, attachments)
        self.commands = CommandStore(world.snowflakes, world.application.id)
        self.interactions = InteractionStore(world, self.clock)
        self.limiter = RateLimiter()
        self.faults = Faults()

    def clock(self) -> float:
        """Monotonic time plus the offset tests add to jump interaction deadlines."""
        return time.monotonic() + self.clock_offset

    # -- lookups and permission checks --------------------------------------------------------

    def channel(self, channel_id: int) -> Channel:
        """A channel, or 404 10003."""
        channel = self.world.channels.get(channel_id)
        if channel is None:
            raise unknown_channel()
        return channel

    def bot_can(self, channel: Channel, permission: int) -> bool:
        """Whether the bot holds `permission` in the channel."""
        return bool(self.world.permissions(self.world.bot_user.id, channel.id) & permission)

    def require_view(self, channel: Channel) -> None:
        """403 50001 unless the bot can see the channel."""
        if not self.bot_can(channel, Permission.VIEW_CHANNEL):
            raise missing_access()

    def require(self, channel: Channel, permission: int) -> None:
        """403 50001/50013 unless the bot can see the channel and holds `permission`."""
        self.require_view(channel)
        if not self.bot_can(channel, permission):
            raise missing_permissions()

    def send_permission(self, channel: Channel) -> int:
        """SEND_MESSAGES, or SEND_MESSAGES_IN_THREADS inside a thread."""
        if channel.is_thread:
            return int(Permission.SEND_MESSAGES_IN_THREADS)
        return int(Permission.SEND_MESSAGES)

    # -- authors --------------------------------------------------------------------------

    def bot_author(self, channel: Channel) -> Author:
        """The bot account as a message author in `channel`."""
        bot = self.world.bot_user
        return Author(
            payload=user_payload(bot),
            user_id=bot.id,
            can_mention_everyone=self.bot_can(channel, Permission.MENTION_EVERYONE),
        )

    def interaction_author(self) -> Author:
        """The bot answering an interaction (through the application's webhook)."""
        bot = self.world.bot_user
        app_id = self.world.application.id
        return Author(
            payload=user_payload(bot),
            user_id=bot.id,
            webhook_id=app_id,
            application_id=app_id,
            default_parse=("users",),
        )

    def webhook_author(self, hook: Webhook, username: str | None) -> Author:
        """A webhook posting under `username` (or its own name)."""
        return Author(
            payload=webhook_author(hook, username),
            webhook_id=hook.id,
            application_id=hook.application_id,
            can_mention_everyone=True,
            default_parse=("users",),
        )

    # -- rate limiting --------------------------------------------------------------------

    def limit(self, request: web.Request, key: str) -> None:
        """Count a write against a bucket; raises the 429 or stashes headers for the response."""
        if not self.limiter.config.enabled:
            return
        verdict = self.limiter.check(key)
        if not verdict.allowed:
            raise RateLimitedError(verdict)
        request[RATELIMIT_HEADERS_KEY] = verdict.headers

    def limit_channel(self, request: web.Request, channel_id: int) -> None:
        """Rate limit a message write into a channel (bot account or webhook)."""
        self.limit(request, f"channel:{channel_id}")

    def limit_interaction(self, request: web.Request, channel_id: int) -> None:
        """Rate limit an interaction webhook write, if interactions are configured to count."""
        if self.limiter.config.interactions:
            self.limit_channel(request, channel_id)
