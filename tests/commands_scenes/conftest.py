"""Fixtures for the scene, memory, admin and control command tests: the real bot, synced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.commands_scenes.helpers import EXTENSIONS
from tests.harness import Scene, running_commands_scene


@pytest.fixture
async def scene(tmp_path) -> AsyncIterator[Scene]:
    """A running bot in the standard fake guild with every scene command registered globally."""
    async with running_commands_scene(tmp_path, EXTENSIONS) as running:
        yield running
