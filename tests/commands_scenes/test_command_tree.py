"""The command tree's shape, snapshotted: every cog loaded on a bot from the production factory.

When a command changes on purpose, refresh the snapshot and review its diff:

    ENSEMBLE_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/commands_scenes/test_command_tree.py
"""

import json
import os
from pathlib import Path
from typing import Any

from bot.bot import EXTENSIONS, create_bot
from bot.config import Settings
from bot.services import open_services
from tests.commands_scenes.helpers import EXTENSIONS as SCENE_EXTENSIONS

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("command_tree.json")
UPDATE_FLAG = "ENSEMBLE_UPDATE_SNAPSHOT"
ALL_EXTENSIONS = tuple(dict.fromkeys((*EXTENSIONS, *SCENE_EXTENSIONS)))
CHAT_INPUT = 1
SUBCOMMANDS = (1, 2)
MANAGE_GUILD = 1 << 5
ADMIN_COMMANDS = {"debug", "usage", "budget", "persona"}
SCENE_COMMANDS = {
    "scene",
    "memory",
    "rewind",
    "Rewind to here",
    "debug",
    "usage",
    "budget",
    "regenerate",
    "continue",
    "stop",
}


def canonical(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Commands in a stable order, as JSON would round-trip them."""
    ordered = sorted(commands, key=lambda c: (int(c.get("type") or 1), c["name"]))
    return json.loads(json.dumps(ordered, sort_keys=True))


async def offline_tree(tmp_path: Path) -> list[dict[str, Any]]:
    """The tree a production bot would sync, built without logging in."""
    settings = Settings(
        _env_file=None,
        discord_token="offline",
        llm_api_key="offline",
        database=str(tmp_path / "tree.sqlite3"),
        personas_dir=ROOT / "personas",
    )
    async with open_services(settings) as services:
        bot = create_bot(services)
        try:
            for extension in ALL_EXTENSIONS:
                await bot.load_extension(extension)
            return canonical([c.to_dict(bot.tree) for c in bot.tree.get_commands()])
        finally:
            await bot.close()


def check_snapshot(tree: list[dict[str, Any]]) -> None:
    if os.environ.get(UPDATE_FLAG):
        SNAPSHOT.write_text(json.dumps(tree, indent=2, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(SNAPSHOT.read_text("utf-8"))
    assert tree == expected, (
        f"The command tree changed. If that is intended, run `{UPDATE_FLAG}=1 .venv/bin/python "
        f"-m pytest {Path(__file__).relative_to(ROOT)}` and review the diff of {SNAPSHOT.name}."
    )


def walk_options(command: dict[str, Any], path: str):
    for option in command.get("options") or []:
        yield f"{path} {option['name']}", option
        if option["type"] in SUBCOMMANDS:
            yield from walk_options(option, f"{path} {option['name']}")


async def test_command_tree_matches_the_snapshot(tmp_path):
    check_snapshot(await offline_tree(tmp_path))


async def test_every_command_is_described_and_admin_guarded(tmp_path):
    tree = await offline_tree(tmp_path)
    names = [(c["type"], c["name"]) for c in tree]
    assert len(names) == len(set(names))
    assert {name for _, name in names} >= SCENE_COMMANDS
    for command in tree:
        if command["name"] in SCENE_COMMANDS:
            assert command["dm_permission"] is False, command["name"]
        if command["type"] != CHAT_INPUT:
            continue
        assert 1 <= len(command["description"]) <= 100, command["name"]
        for path, option in walk_options(command, command["name"]):
            assert option["description"] not in ("", "…"), f"/{path} has no description"
            assert len(option["description"]) <= 100, path
        if command["name"] in ADMIN_COMMANDS:
            assert int(command["default_member_permissions"]) == MANAGE_GUILD, command["name"]


async def test_the_synced_tree_is_the_snapshot(scene):
    synced = scene.fake.requests("PUT", "/applications/*/commands")[-1].json
    check_snapshot(canonical(synced))
