"""End-to-end harness: the real bot, built by the production factory, against both fakes.

    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        await scene.say(scene.alice, "Hello, Narrator!")
        reply = await scene.wait_for_reply()

`scene.fake` is the FakeDiscord (see tests/fakes/discord), `scene.model` the FakeModelServer
(tests/fakes/model_server.py), `scene.bot` the RoleplayBot and `scene.services` its services.
The guild has an owner-admin, a game master (role "Game Master"), three players (alice, bob,
carol) and another bot, and one text channel #tavern.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.bot import RoleplayBot, create_bot
from bot.config import Settings
from bot.memory import ChannelConfig, NewMessage
from bot.services import Services, open_services
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.harness import pointed_at, running
from tests.fakes.discord.world import Channel, Guild, StoredMessage, User
from tests.fakes.model_server import FakeModelServer

ROOT = Path(__file__).resolve().parents[1]
MANAGE_GUILD = 1 << 5
MANAGE_CHANNELS = 1 << 4

FAST_SETTINGS: dict[str, Any] = {
    "lull_seconds": 0.3,
    "proxy_wait_seconds": 0.3,
    "user_cooldown_seconds": 0.0,
    "llm_max_attempts": 2,
}
"""Test defaults that keep the suite quick; a test overrides what it measures."""


@dataclass
class Scene:
    """A running bot in a fake guild, with handles for driving and asserting."""

    fake: FakeDiscord
    model: FakeModelServer
    bot: RoleplayBot
    services: Services
    settings: Settings
    guild: Guild
    channel: Channel
    admin: User
    gm: User
    alice: User
    bob: User
    carol: User
    other_bot: User

    async def enable(
        self,
        cast: Sequence[str] = ("narrator",),
        *,
        channel_id: int | None = None,
        reply_mode: str = "addressed",
        scene_name: str = "The Rusty Anchor",
        scene_setting: str = "A harbour tavern on a stormy night.",
        **fields: Any,
    ) -> ChannelConfig:
        """Turn roleplay on in a channel directly through the engine (no slash command)."""
        config = ChannelConfig(
            channel_id=channel_id or self.channel.id,
            guild_id=self.guild.id,
            enabled=True,
            cast=tuple(cast),
            scene_name=scene_name,
            scene_setting=scene_setting,
            reply_mode=reply_mode,  # type: ignore[arg-type]
            **fields,
        )
        await self.services.runtime.configure(config)
        return config

    async def remember(self, user: User, text: str, *, discord_id: int) -> None:
        """Put an old player line into memory as if the bot had seen it (caches stay coherent)."""
        await self.services.runtime.memory.remember(
            NewMessage(
                channel_id=self.channel.id,
                guild_id=self.guild.id,
                discord_id=discord_id,
                author_id=user.id,
                author_name=user.global_name or user.username,
                text=text,
            )
        )

    async def eventually(
        self, check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0
    ) -> Any:
        """Poll an async `check` until it returns something truthy; return that."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = await check()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.02)

    async def summary_text(self, persona_id: str | None = None) -> str | None:
        """The scene's current summary text (or a late joiner's), from memory."""
        summary = await self.services.store.get_summary(self.channel.id, persona_id)
        return None if summary is None else summary.text

    async def say(
        self, user: User, content: str, *, channel_id: int | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """A player posts in the scene channel."""
        return await self.fake.user_says(channel_id or self.channel.id, user.id, content, **kwargs)

    def persona_messages(self, channel_id: int | None = None) -> list[StoredMessage]:
        """Messages in the channel posted by the bot or its webhooks."""
        bot_id = self.fake.bot_user.id
        return [
            m
            for m in self.fake.messages_in(channel_id or self.channel.id)
            if m.webhook_id is not None or m.author_id == bot_id
        ]

    async def wait_for_reply(
        self,
        text: str | None = None,
        *,
        count: int = 1,
        channel_id: int | None = None,
        timeout: float = 10.0,
    ) -> StoredMessage:
        """Wait until `count` persona replies exist, the newest is final (no marker) and the
        runtime has stored it (nobody is speaking in the channel any more).
        """
        runtime = self.services.runtime

        def done() -> StoredMessage | None:
            if runtime.is_speaking(channel_id or self.channel.id):
                return None
            messages = self.persona_messages(channel_id)
            if len(messages) < count:
                return None
            last = messages[-1]
            if last.content.endswith("▌"):
                return None
            if text is not None and text not in last.content:
                return None
            return last

        result: StoredMessage = await self.fake.wait_until(done, timeout=timeout)
        return result

    async def settle(self, seconds: float = 0.2) -> None:
        """Let in-flight events and turns run."""
        await asyncio.sleep(seconds)


def build_settings(
    fake: FakeDiscord, model: FakeModelServer, tmp_path: Path, **overrides: Any
) -> Settings:
    """Settings pointing the bot at the fakes, with a fresh SQLite file."""
    values: dict[str, Any] = {
        "discord_token": fake.token,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "llm_provider": "openrouter",
        "llm_api_key": model.api_key,
        "llm_base_url": model.base_url_openrouter,
        "database": str(tmp_path / "ensemble.sqlite3"),
        "personas_dir": ROOT / "personas",
        **FAST_SETTINGS,
    }
    values.update(overrides)
    if values.get("llm_provider") == "minimax" and "llm_base_url" not in overrides:
        values["llm_base_url"] = model.base_url_minimax
    return Settings(_env_file=None, **values)


def populate(fake: FakeDiscord) -> dict[str, Any]:
    """The standard guild: admin owner, game master, three players, another bot, #tavern."""
    admin = fake.add_user("admin", global_name="Admin")
    guild = fake.add_guild("Harbour", owner_id=admin.id)
    fake.add_member(guild.id, admin.id)
    gm_role = fake.add_role(guild.id, "Game Master")
    return {
        "guild": guild,
        "channel": fake.add_text_channel(guild.id, "tavern"),
        "admin": admin,
        "gm": fake.add_user("gm", global_name="Gamemaster", guild_id=guild.id, roles=[gm_role.id]),
        "alice": fake.add_user("alice", global_name="Alice", guild_id=guild.id),
        "bob": fake.add_user("bob", global_name="Bob", guild_id=guild.id),
        "carol": fake.add_user("carol", global_name="Carol", guild_id=guild.id),
        "other_bot": fake.add_user("OtherBot", bot=True, guild_id=guild.id),
    }


@contextlib.asynccontextmanager
async def start_bot(
    fake: FakeDiscord, settings: Settings, **client_overrides: Any
) -> AsyncIterator[tuple[RoleplayBot, Services]]:
    """Open the services and run a RoleplayBot against `fake` until the block ends."""
    with pointed_at(fake):
        async with open_services(settings) as services:
            bot = create_bot(services, guild_ready_timeout=0.05, **client_overrides)
            async with running(fake, bot):
                yield bot, services


@contextlib.asynccontextmanager
async def running_scene(
    tmp_path: Path,
    *,
    fake: FakeDiscord | None = None,
    model: FakeModelServer | None = None,
    setup: Callable[[FakeDiscord], None] | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[Scene]:
    """Start both fakes (unless given), populate the guild, run the bot; tear all down after."""
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeDiscord())
        if model is None:
            model = await stack.enter_async_context(FakeModelServer())
        people = populate(fake)
        if setup is not None:
            setup(fake)
        settings = build_settings(fake, model, tmp_path, **settings_overrides)
        bot, services = await stack.enter_async_context(start_bot(fake, settings))
        yield Scene(fake=fake, model=model, bot=bot, services=services, settings=settings, **people)


@contextlib.asynccontextmanager
async def running_commands_scene(
    tmp_path: Path, extensions: Iterable[str], **settings_overrides: Any
) -> AsyncIterator[Scene]:
    """A running scene with `extensions` loaded (unless already) and the command tree synced."""
    async with running_scene(tmp_path, **settings_overrides) as running:
        for extension in extensions:
            if extension not in running.bot.extensions:
                await running.bot.load_extension(extension)
        await running.bot.tree.sync()
        yield running


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    """A copy of `settings` with some fields changed (validated again)."""
    data = {k: getattr(settings, k) for k in Settings.model_fields}
    data.update(changes)
    data["discord_token"] = settings.discord_token.get_secret_value()
    data["llm_api_key"] = settings.llm_api_key.get_secret_value()
    return Settings(_env_file=None, **data)


__all__ = [
    "FAST_SETTINGS",
    "Scene",
    "build_settings",
    "populate",
    "replace_settings",
    "running_commands_scene",
    "running_scene",
    "start_bot",
]
