"""Lorebooks, long-term recall, dice and content ratings end to end: slash commands on the
fake Discord, what reaches the fake model, and what players see.
"""

from __future__ import annotations

import json

from bot.bot import EXTENSIONS
from bot.memory import NewMessage
from bot.models import AuthorKind
from tests.fakes.model_server import Reply
from tests.harness import Scene, running_commands_scene
from tests.interactions import slash

WORLD_INFO = {
    "entries": {
        "0": {"uid": 0, "key": ["Obsidian Gate"], "content": "The Obsidian Gate opens at dusk.",
              "order": 100, "position": 0, "sticky": 2, "displayIndex": 0},
        "1": {"uid": 1, "key": ["harbour"], "keysecondary": ["storm"], "selective": True,
              "selectiveLogic": 0, "content": "Storms close the harbour.", "order": 10},
    }
}  # fmt: skip


def turn_requests(scene: Scene) -> list[list[dict]]:
    return [
        r.messages
        for r in scene.model.requests
        if "running summary" not in str(r.messages[0].get("content"))
    ]


async def test_lore_added_by_a_game_master_reaches_the_model_and_debug_prompt(scene: Scene):
    await scene.enable(cast=("narrator",))
    added = await slash(
        scene,
        "lore add",
        scene.gm,
        scope="scene",
        keys="Rusty Anchor, the inn",
        content="The Rusty Anchor hides a smugglers' trapdoor.",
        order=50,
    )
    assert "Added to the scene lorebook" in added.content and added.ephemeral
    scene.model.script(Reply(text="Aye, the Anchor."))
    await scene.say(scene.alice, "Narrator, what about the rusty anchor?")
    await scene.wait_for_reply("Aye, the Anchor.")
    last = turn_requests(scene)[-1][-1]
    assert last["name"] == "Scene notes" and "smugglers' trapdoor" in last["content"]
    debug = await slash(scene, "debug prompt", scene.admin)
    assert "Lore fired: scene `0` **Rusty Anchor** — key “Rusty Anchor”" in debug.text


async def test_players_cannot_change_lore(scene: Scene):
    answer = await slash(scene, "lore add", scene.alice, scope="scene", keys="x", content="y")
    assert answer.ephemeral and "game master" in answer.content.lower()
    assert await scene.services.runtime.lorebook("scene", scene.channel.id) is None


async def test_world_info_import_export_round_trips_and_bad_files_change_nothing(scene: Scene):
    await scene.enable(cast=("narrator",))
    upload = scene.fake.serve_attachment("world.json", json.dumps(WORLD_INFO).encode())
    answer = await slash(scene, "lore import", scene.gm, scope="server", file=upload)
    assert "Imported 2 entries" in answer.content
    exported = await slash(scene, "lore export", scene.gm, scope="server")
    assert json.loads(exported.files[0].data) == WORLD_INFO

    broken = {"entries": {"0": {"key": ["a"], "content": "ok"}, "1": {"key": [], "content": "x"}}}
    bad = scene.fake.serve_attachment("bad.json", json.dumps(broken).encode())
    refused = await slash(scene, "lore import", scene.gm, scope="server", file=bad)
    assert "Entry 1 has no keys" in refused.content and "Nothing was imported" in refused.content
    listing = await slash(scene, "lore list", scene.gm, scope="server")
    assert "2 entries" in listing.content and "Obsidian Gate" in listing.content

    scene.model.script(Reply(text="At dusk."))
    await scene.say(scene.alice, "Narrator, when does the obsidian gate open?")
    await scene.wait_for_reply("At dusk.")
    assert "opens at dusk" in turn_requests(scene)[-1][-1]["content"]


async def test_a_fact_far_back_is_recalled_and_shown_by_memory_recall(scene: Scene):
    await scene.enable(cast=("narrator",))
    memory = scene.services.runtime.memory
    await memory.remember(
        NewMessage(scene.channel.id, scene.guild.id, 1, scene.alice.id, "Alice",
                   "I named my sword Glimmerbane, forged in ice.")
    )  # fmt: skip
    for n in range(5000):
        await memory.remember(
            NewMessage(scene.channel.id, scene.guild.id, 10 + n, scene.bob.id, "Bob", f"Row {n}.")
        )
    scene.model.script(Reply(text="Glimmerbane, yes."))
    await scene.say(scene.alice, "Narrator, do you remember Glimmerbane?")
    await scene.wait_for_reply("Glimmerbane, yes.")
    assert "forged in ice" in turn_requests(scene)[-1][-1]["content"]
    found = await slash(scene, "memory recall", scene.gm, query="glimmerbane")
    assert "forged in ice" in found.content and found.ephemeral


async def test_a_roll_is_posted_remembered_and_seen_by_the_persona(scene: Scene):
    await scene.enable(cast=("narrator",))
    answer = await slash(scene, "roll", scene.bob, expression="1d20+4", reason="Stealth")
    assert not answer.ephemeral and "rolled for **Stealth**" in answer.content

    async def stored_roll():
        lines = await scene.services.store.window(scene.channel.id, limit=10)
        return [r for r in lines if r.kind is AuthorKind.HUMAN]

    (roll,) = await scene.eventually(stored_roll, timeout=5)
    assert roll.text.startswith("🎲 Bob rolled 1d20+4 = ") and roll.text.endswith("for Stealth")
    assert roll.author_id == scene.bob.id
    scene.model.script(Reply(text="The guard notices nothing."))
    await scene.say(scene.bob, "Narrator, do I get past?")
    await scene.wait_for_reply("notices nothing")
    assert roll.text.removeprefix("🎲 ") in str(turn_requests(scene)[-1])


async def test_a_bad_roll_is_a_private_error_and_nothing_is_stored(scene: Scene):
    await scene.enable(cast=("narrator",))
    answer = await slash(scene, "roll", scene.bob, expression="1000d6")
    assert answer.ephemeral and "At most 100 dice" in answer.content
    assert await scene.services.store.window(scene.channel.id, limit=10) == []


async def test_inline_rolls_in_a_scene_message(scene: Scene):
    await scene.enable(cast=("narrator",))
    scene.model.script(Reply(text="You slip past."))
    await scene.say(scene.alice, "Narrator, I sneak past [[1d20+4]].")
    await scene.wait_for_reply("You slip past.")
    shown = [m.content for m in scene.fake.messages_in(scene.channel.id)]
    assert any(c.startswith("🎲 **Alice**: 1d20 (") for c in shown)
    assert "[1d20+4 = " in str(turn_requests(scene)[-1])


async def test_adult_personas_are_refused_outside_age_restricted_channels(scene: Scene):
    marked = await slash(scene, "persona rating", scene.admin, persona="vex", adult=True)
    assert "for adults" in marked.content
    refused = await slash(scene, "scene start", scene.gm, name="After Dark", persona="vex")
    assert "Age-Restricted Channel" in refused.content and refused.ephemeral
    assert await scene.services.runtime.scene(scene.channel.id) is None


async def test_the_scene_pauses_when_the_age_restriction_is_turned_off(tmp_path):
    def lounge(fake):
        guild_id = next(iter(fake.world.guilds))
        fake.add_text_channel(guild_id, "lounge", nsfw=True)

    async with running_commands_scene(tmp_path, EXTENSIONS, setup=lounge) as scene:
        lounge_channel = next(c for c in scene.fake.world.channels.values() if c.name == "lounge")
        await slash(scene, "persona rating", scene.admin, persona="vex", adult=True)
        started = await slash(
            scene, "scene start", scene.gm, channel_id=lounge_channel.id, name="Late", persona="vex"
        )
        assert "is on in" in started.content
        scene.model.script(Reply(text="Welcome, darling."))
        await scene.say(scene.alice, "Vex?", channel_id=lounge_channel.id)
        await scene.wait_for_reply("Welcome", channel_id=lounge_channel.id)
        assert "age-restricted; mature themes" in turn_requests(scene)[-1][0]["content"]

        await scene.fake.admin_sets_age_restricted(lounge_channel.id, False)
        notice = await scene.fake.wait_until(
            lambda: next(
                (m for m in scene.fake.messages_in(lounge_channel.id) if "paused" in m.content),
                None,
            )
        )
        assert "Age-Restricted Channel" in notice.content
        asked = len(scene.model.requests)
        await scene.say(scene.alice, "Vex, still there?", channel_id=lounge_channel.id)
        await scene.settle(0.5)
        assert len(scene.model.requests) == asked
