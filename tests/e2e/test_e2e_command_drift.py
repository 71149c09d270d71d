"""On start, the bot compares the slash commands registered with Discord with its own tree
and logs one line when they differ; with DEV_GUILD_ID it re-syncs that guild only then."""

import asyncio
import logging

from bot.cli import _sync
from bot.command_drift import describe_drift
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.harness import pointed_at
from tests.fakes.model_server import FakeModelServer
from tests.harness import build_settings, populate, running_scene, start_bot

OUT_OF_DATE = "commands out of date: run `python -m bot sync`"


async def command_check_result(bot) -> str | None:
    for _ in range(500):
        if bot.command_check is not None:
            return await bot.command_check
        await asyncio.sleep(0.01)
    raise AssertionError("the bot never started its command check")


def drift_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if OUT_OF_DATE in r.getMessage()]


async def test_unsynced_commands_are_logged_once(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="bot.bot")
    async with running_scene(tmp_path) as scene:
        drift = await command_check_result(scene.bot)

    assert drift is not None and drift.startswith("not registered: ")
    assert "scene" in drift and "persona" in drift
    assert len(drift_warnings(caplog)) == 1
    assert scene.fake.requests("PUT", "/applications/*") == []  # it says so; it doesn't sync


async def test_synced_commands_are_quiet_and_a_changed_one_is_named(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="bot.bot")
    async with FakeDiscord() as fake, FakeModelServer() as model:
        with pointed_at(fake):
            assert await _sync(build_settings(fake, model, tmp_path), None) == 0
        async with running_scene(tmp_path, fake=fake, model=model) as scene:
            assert await command_check_result(scene.bot) is None
            assert drift_warnings(caplog) == []

            registered = {c["name"]: c for c in fake.commands()}
            registered["me"]["description"] = "An older description."
            assert await scene.bot.warn_if_commands_out_of_date() == "changed: me"
            assert len(drift_warnings(caplog)) == 1


async def test_dev_guild_is_synced_on_start_only_when_out_of_date(tmp_path):
    async with FakeDiscord() as fake, FakeModelServer() as model:
        guild = populate(fake)["guild"]
        settings = build_settings(fake, model, tmp_path, dev_guild_id=guild.id)
        put = f"/applications/*/guilds/{guild.id}/commands"

        async with start_bot(fake, settings):
            pass
        assert len(fake.requests("PUT", put)) == 1
        assert {c["name"] for c in fake.commands(guild.id)} >= {"scene", "persona", "me"}

        async with start_bot(fake, settings) as (bot, _services):
            await asyncio.sleep(0.1)
            assert bot.command_check is None  # the dev guild is the scope that matters
        assert len(fake.requests("PUT", put)) == 1


def test_discords_defaults_and_string_permissions_are_not_a_difference():
    in_code = [
        {
            "name": "budget",
            "description": "Daily limits.",
            "type": 1,
            "default_member_permissions": 32,
            "contexts": None,
            "dm_permission": False,
            "options": [
                {"type": 10, "name": "usd", "description": "Dollars", "required": False},
                {"type": 3, "name": "kind", "description": "Which", "choices": []},
            ],
        },
        {"name": "Rewind to here", "type": 3, "contexts": [0], "integration_types": None},
    ]
    registered = [
        {
            "id": "1",
            "version": "2",
            "name": "budget",
            "description": "Daily limits.",
            "type": 1,
            "default_member_permissions": "32",
            "contexts": [0, 1, 2],
            "integration_types": [0],
            "dm_permission": True,
            "nsfw": False,
            "options": [
                {"type": 10, "name": "usd", "description": "Dollars"},
                {"type": 3, "name": "kind", "description": "Which"},
            ],
        },
        {"id": "3", "name": "Rewind to here", "type": 3, "description": "", "contexts": [0]},
    ]

    assert describe_drift(in_code, registered) is None


def test_every_kind_of_difference_is_named():
    in_code = [
        {"name": "scene", "description": "Run scenes.", "type": 1},
        {"name": "me", "description": "You.", "type": 1, "options": []},
    ]
    registered = [
        {
            "name": "me",
            "description": "You.",
            "type": 1,
            "options": [{"type": 3, "name": "x", "description": "X", "required": True}],
        },
        {"name": "old", "description": "Gone.", "type": 1},
    ]

    assert describe_drift(in_code, registered) == (
        "not registered: scene; changed: me; no longer in the code: old"
    )
