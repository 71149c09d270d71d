"""Fixtures for the /persona and /me tests: the real bot with both cogs loaded and synced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.harness import Scene, running_scene

EXTENSIONS = ("cogs.personas", "cogs.players")


@pytest.fixture
async def scene(tmp_path) -> AsyncIterator[Scene]:
    """A running bot in the standard fake guild, with /persona and /me registered globally."""
    async with running_scene(tmp_path) as running:
        for extension in EXTENSIONS:
            if extension not in running.bot.extensions:
                await running.bot.load_extension(extension)
        await running.bot.tree.sync()
        yield running
