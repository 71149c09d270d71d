"""FakeDiscord: the aiohttp app and its lifecycle, assembled from the builder/actor/query mixins."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web

from .actors import ActorsMixin
from .attachments import AttachmentStore
from .builders import BuildersMixin
from .controls import ControlsMixin
from .core import Core, Timing
from .gateway import GatewayHub
from .intents import PRIVILEGED_INTENTS
from .invoking import InteractionsMixin
from .middleware import build_middleware, not_found
from .queries import QueriesMixin
from .recording import Recorder
from .rest_channels import ChannelRoutes
from .rest_core import CoreRoutes
from .rest_interactions import InteractionRoutes
from .rest_webhooks import WebhookRoutes
from .snowflakes import SnowflakeFactory
from .world import Webhook, World

API_PREFIX = "/api/v10"


class FakeDiscord(BuildersMixin, ActorsMixin, InteractionsMixin, ControlsMixin, QueriesMixin):
    """An in-process Discord (REST v10 + gateway v10) that real discord.py runs against.

    See the package docstring (`tests.fakes.discord`) for the manual.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "Ensemble",
        approved_intents: int = PRIVILEGED_INTENTS,
        shard_count: int = 1,
        heartbeat_interval_ms: int = 41_250,
        ack_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.shard_count = shard_count
        self._host = host
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        snowflakes = SnowflakeFactory()
        self.world = World(snowflakes, bot_name=bot_name, approved_intents=approved_intents)
        recorder = Recorder()
        hub = GatewayHub(
            self.world,
            token=token,
            heartbeat_interval_ms=heartbeat_interval_ms,
            resume_url=lambda: self.gateway_url,
        )
        hub.changed = recorder.poke
        self._core = Core(
            world=self.world,
            hub=hub,
            attachments=AttachmentStore(snowflakes, lambda: self.base_url),
            recorder=recorder,
            token=token,
            timing=Timing(ack_deadline=ack_deadline, token_lifetime=token_lifetime),
        )
        self._interaction_routes = InteractionRoutes(self._core)
        self._webhook_routes = WebhookRoutes(self._core, self._interaction_routes)
        self._proxy_hooks: dict[tuple[int, str], Webhook] = {}

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> Self:
        """Listen on `host`:0 and serve REST, gateway and attachments."""
        app = web.Application(
            middlewares=[build_middleware(self._core, API_PREFIX)], client_max_size=64 * 1024**2
        )
        router = app.router
        router.add_get("/gateway", self._core.hub.handle)
        router.add_get("/gateway/", self._core.hub.handle)
        router.add_get("/attachments/{attachment_id}/{filename}", self._core.attachments.handle)
        CoreRoutes(
            self._core, gateway_url=lambda: self.gateway_url, shard_count=lambda: self.shard_count
        ).register(router, API_PREFIX)
        ChannelRoutes(self._core).register(router, API_PREFIX)
        self._webhook_routes.register(router, API_PREFIX)
        self._interaction_routes.register(router, API_PREFIX)
        router.add_route("*", "/{tail:.*}", not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Close every gateway websocket, then the HTTP server."""
        if self._runner is None:
            return
        await self._core.hub.shutdown()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (after `start`)."""
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for `discord.http.Route.BASE`."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` (wrap in `yarl.URL`)."""
        return f"ws://{self._host}:{self.port}/gateway/"
