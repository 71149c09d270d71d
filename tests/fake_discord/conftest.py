"""Fixtures for the fake Discord's own tests: a started fake and a tiny discord.py bot factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest
from discord.ext import commands

from tests.fakes.discord import FakeDiscord, Seed


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


@pytest.fixture
def seed(fake: FakeDiscord) -> Seed:
    return fake.seed()


@pytest.fixture
def make_bot() -> Callable[..., commands.Bot]:
    """Build a minimal commands.Bot the way the harness manual recommends."""

    def build(
        *,
        intents: discord.Intents | None = None,
        cls: type[commands.Bot] = commands.Bot,
        **kwargs: Any,
    ) -> commands.Bot:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True
        return cls(
            command_prefix="!",
            intents=intents,
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.none(),
            **kwargs,
        )

    return build
