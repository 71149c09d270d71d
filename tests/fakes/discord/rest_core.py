"""REST routes for login, gateway discovery, users, DMs, guilds and application commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .bodies import body_of, json_object, snowflake_param
from .core import Core
from .errors import (
    DiscordError,
    json_response,
    unknown_guild,
    unknown_member,
    unknown_user,
)
from .payloads import (
    channel_payload,
    guild_payload,
    member_payload,
    role_payload,
    user_payload,
)
from .world import Guild


class CoreRoutes:
    """Handlers for `/users`, `/oauth2`, `/applications`, `/gateway` and `/guilds`."""

    def __init__(
        self, core: Core, *, gateway_url: Callable[[], str], shard_count: Callable[[], int]
    ) -> None:
        self.core = core
        self._gateway_url = gateway_url
        self._shard_count = shard_count

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        """Add the routes."""
        router.add_get(prefix + "/users/@me", self.me)
        router.add_post(prefix + "/users/@me/channels", self.open_dm)
        router.add_get(prefix + "/users/{user_id}", self.user)
        router.add_get(prefix + "/oauth2/applications/@me", self.application)
        router.add_get(prefix + "/applications/@me", self.application)
        router.add_get(prefix + "/gateway", self.gateway)
        router.add_get(prefix + "/gateway/bot", self.gateway_bot)
        guild = prefix + "/guilds/{guild_id}"
        router.add_get(guild, self.guild)
        router.add_get(guild + "/roles", self.roles)
        router.add_get(guild + "/channels", self.channels)
        router.add_get(guild + "/members/{user_id}", self.member)
        app = prefix + "/applications/{application_id}"
        for path, scoped in (
            (app + "/commands", False),
            (app + "/guilds/{guild_id}/commands", True),
        ):
            router.add_put(path, self._commands(self.overwrite_commands, scoped))
            router.add_get(path, self._commands(self.list_commands, scoped))
            router.add_post(path, self._commands(self.upsert_command, scoped))
            router.add_delete(path + "/{command_id}", self._commands(self.delete_command, scoped))

    # -- login ----------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        """GET /users/@me."""
        bot = self.core.world.bot_user
        return json_response({**user_payload(bot), "verified": True, "mfa_enabled": False})

    async def user(self, request: web.Request) -> web.Response:
        """GET /users/{id}."""
        user = self.core.world.users.get(snowflake_param(request, "user_id"))
        if user is None:
            raise unknown_user()
        return json_response(user_payload(user))

    async def application(self, request: web.Request) -> web.Response:
        """GET /oauth2/applications/@me (no interactions_endpoint_url: commands use the gateway)."""
        world = self.core.world
        app = world.application
        return json_response(
            {
                "id": str(app.id),
                "name": app.name,
                "icon": None,
                "description": app.description,
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": user_payload(world.users[app.owner_id]),
                "team": None,
                "flags": self.core.hub.application_flags(),
                "bot": user_payload(world.bot_user),
                "tags": [],
                "redirect_uris": [],
                "approximate_guild_count": len(world.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def gateway(self, request: web.Request) -> web.Response:
        """GET /gateway."""
        return json_response({"url": self._gateway_url()})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        """GET /gateway/bot (what AutoShardedClient asks before launching shards)."""
        return json_response(
            {
                "url": self._gateway_url(),
                "shards": self._shard_count(),
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    # -- DMs ------------------------------------------------------------------------------

    async def open_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels {"recipient_id"}."""
        body = json_object(request)
        user_id = int(body.get("recipient_id") or 0)
        if user_id not in self.core.world.users:
            raise unknown_user()
        channel = self.core.world.dm_channel(user_id)
        return json_response(channel_payload(self.core.world, channel))

    # -- guilds ---------------------------------------------------------------------------

    def _guild(self, request: web.Request) -> Guild:
        guild = self.core.world.guilds.get(snowflake_param(request, "guild_id"))
        if guild is None:
            raise unknown_guild()
        return guild

    async def guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}."""
        return json_response(guild_payload(self.core.world, self._guild(request)))

    async def roles(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles."""
        return json_response([role_payload(r) for r in self._guild(request).roles.values()])

    async def channels(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/channels (threads excluded, as on Discord)."""
        world = self.core.world
        guild = self._guild(request)
        listed = [world.channels[c] for c in guild.channel_ids if not world.channels[c].is_thread]
        return json_response([channel_payload(world, c) for c in listed])

    async def member(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members/{user_id}."""
        guild = self._guild(request)
        member = guild.members.get(snowflake_param(request, "user_id"))
        if member is None:
            raise unknown_member()
        return json_response(member_payload(self.core.world, member))

    # -- application commands -----------------------------------------------------------------

    def _commands(
        self, handler: Callable[[int | None, Any, web.Request], web.Response], scoped: bool
    ) -> Callable[[web.Request], Any]:
        async def route(request: web.Request) -> web.Response:
            if snowflake_param(request, "application_id") != self.core.world.application.id:
                raise DiscordError(403, 50001, "Missing Access")
            guild_id = snowflake_param(request, "guild_id") if scoped else None
            if guild_id is not None and guild_id not in self.core.world.guilds:
                raise DiscordError(403, 50001, "Missing Access")
            return handler(guild_id, body_of(request).json, request)

        return route

    def overwrite_commands(
        self, guild_id: int | None, body: Any, request: web.Request
    ) -> web.Response:
        """PUT .../commands: bulk overwrite, echoed with ids."""
        return json_response(self.core.commands.overwrite(guild_id, body))

    def list_commands(self, guild_id: int | None, body: Any, request: web.Request) -> web.Response:
        """GET .../commands."""
        return json_response(self.core.commands.in_scope(guild_id))

    def upsert_command(self, guild_id: int | None, body: Any, request: web.Request) -> web.Response:
        """POST .../commands: create or replace one."""
        return json_response(self.core.commands.upsert(guild_id, body), status=201)

    def delete_command(self, guild_id: int | None, body: Any, request: web.Request) -> web.Response:
        """DELETE .../commands/{id}."""
        self.core.commands.delete(guild_id, snowflake_param(request, "command_id"))
        return web.Response(status=204)
