"""Fixtures for the lorebook, dice, recall and rating tests: the real bot, every cog synced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.bot import EXTENSIONS
from tests.harness import Scene, running_commands_scene


@pytest.fixture
async def scene(tmp_path) -> AsyncIterator[Scene]:
    """A running bot in the standard fake guild with every command registered globally."""
    async with running_commands_scene(tmp_path, EXTENSIONS) as running:
        yield running
