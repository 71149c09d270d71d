"""`python -m bot sync`: commands reach Discord only when asked, globally or to one guild."""

from bot.cli import _sync
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.harness import pointed_at
from tests.fakes.model_server import FakeModelServer
from tests.harness import build_settings, populate, running_scene


async def test_sync_registers_every_command_globally(tmp_path, capsys):
    async with FakeDiscord() as fake, FakeModelServer() as model:
        populate(fake)
        with pointed_at(fake):
            assert await _sync(build_settings(fake, model, tmp_path), None) == 0
        names = {c["name"] for c in fake.commands()}
        assert {"scene", "persona", "me", "memory", "usage", "budget", "alerts"} <= names
        assert "Synced" in capsys.readouterr().out


async def test_sync_to_one_guild_for_development(tmp_path):
    async with FakeDiscord() as fake, FakeModelServer() as model:
        guild = populate(fake)["guild"]
        with pointed_at(fake):
            assert await _sync(build_settings(fake, model, tmp_path), guild.id) == 0
        assert {c["name"] for c in fake.commands(guild.id)} >= {"scene", "persona"}
        assert fake.commands() == []


async def test_running_the_bot_does_not_sync_commands(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.settle(0.2)
        assert scene.fake.requests("PUT", "/applications/*") == []
