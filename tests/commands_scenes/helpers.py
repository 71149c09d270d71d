"""Helpers specific to the scene, memory, admin and control command tests."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.memory import MessageRecord
from tests.fakes.discord import Role, StoredMessage, User
from tests.fakes.discord.interactions import APPLICATION_COMMAND, slash_data
from tests.harness import Scene
from tests.interactions import EPHEMERAL, Answer, answer_of

EXTENSIONS = ("cogs.roleplay", "cogs.scenes", "cogs.memory", "cogs.admin", "cogs.controls")


async def slash_despite_defaults(scene: Scene, command: str, user: User, **options: Any) -> Answer:
    """Run a command the user's client would hide (default permissions), as a stale client or
    an integration override lets them; the bot must still refuse at run time."""
    fake = scene.fake
    channel = fake.world.channels[scene.channel.id]
    data = slash_data(
        fake.world,
        fake._core.commands,
        command,
        options,
        guild_id=channel.guild_id,
        channel=channel,
        attach=fake.serve_attachment,
    )
    # `FakeDiscord.slash` refuses hidden commands; build the interaction the same way it does.
    interaction = fake._core.interactions.create(APPLICATION_COMMAND, channel, user.id, data)
    await fake._dispatch_interaction(interaction)
    return await answer_of(scene, interaction)


async def memory_of(scene: Scene, channel_id: int | None = None) -> list[MessageRecord]:
    """Every line the store remembers for a channel, oldest first."""
    store = scene.services.store
    return await store.messages_after(channel_id or scene.channel.id, None, limit=10_000)


def public_messages(scene: Scene, channel_id: int | None = None) -> list[StoredMessage]:
    """Live messages everyone can see in a channel (ephemeral answers left out)."""
    messages = scene.fake.messages_in(channel_id or scene.channel.id)
    return [m for m in messages if not m.flags & EPHEMERAL]


async def add_persona(scene: Scene, persona_id: str, card: dict[str, Any]) -> None:
    """Give the guild its own persona card."""
    await scene.services.store.save_persona(scene.guild.id, persona_id, card)
    scene.services.personas.invalidate(scene.guild.id)


async def add_role(scene: Scene, name: str) -> Role:
    """Create a role and tell the bot, as Discord does with GUILD_ROLE_CREATE."""
    role = scene.fake.add_role(scene.guild.id, name)
    await scene.fake.announce_role(role.id)
    await scene.fake.wait_until(lambda: scene.bot.get_guild(scene.guild.id).get_role(role.id))
    return role


async def wait_for_memory(
    scene: Scene, count: int, channel_id: int | None = None, timeout: float = 5.0
) -> list[MessageRecord]:
    """Wait until the store remembers at least `count` lines of a channel."""
    async with asyncio.timeout(timeout):
        while len(lines := await memory_of(scene, channel_id)) < count:
            await asyncio.sleep(0.01)
    return lines


async def turn_over(scene: Scene, channel_id: int | None = None) -> None:
    """Wait until no persona turn runs or streams in a channel (buttons and memory settled)."""
    runtime = scene.services.runtime
    channel = channel_id or scene.channel.id
    await scene.fake.wait_until(lambda: not runtime.is_busy(channel))
