"""Fixtures for the /persona and /me tests: the real bot with both cogs loaded and synced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.harness import Scene, running_commands_scene

EXTENSIONS = ("cogs.personas", "cogs.players")


@pytest.fixture
async def scene(tmp_path) -> AsyncIterator[Scene]:
    """A running bot in the standard fake guild, with /persona and /me registered globally."""
    async with running_commands_scene(tmp_path, EXTENSIONS) as running:
        yield running
