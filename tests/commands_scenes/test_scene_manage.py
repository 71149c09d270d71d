"""Shaping and ending a running scene: cast, mode, setting, status, end with a transcript, reset."""

import time

from bot.memory import UsageRecord
from tests.commands_scenes.helpers import memory_of, public_messages, turn_over, wait_for_memory
from tests.fakes.model_server import Reply
from tests.interactions import MESSAGE, answer_of, press, slash


async def start(scene, *personas: str) -> None:
    options = {"persona": personas[0]}
    options.update({f"persona_{i}": p for i, p in enumerate(personas[1:], start=2)})
    answer = await slash(scene, "scene start", scene.gm, name="The Rusty Anchor", **options)
    assert "is on in" in answer.content, answer.content


async def test_cast_add_greets_and_cast_remove_unseats(scene):
    await start(scene, "narrator")
    added = await slash(scene, "scene cast add", scene.gm, persona="vex")
    assert added.ephemeral and "Vex joined the cast and greeted" in added.content
    config = await scene.services.store.get_channel(scene.channel.id)
    assert config.cast == ("narrator", "vex")
    assert [line.persona_id for line in await memory_of(scene)] == ["narrator", "vex"]

    twice = await slash(scene, "scene cast add", scene.gm, persona="vex", greet=False)
    assert "already in the cast" in twice.content

    removed = await slash(scene, "scene cast remove", scene.gm, persona="narrator")
    assert removed.ephemeral and "The Narrator left the cast" in removed.content
    config = await scene.services.store.get_channel(scene.channel.id)
    assert config.cast == ("vex",)
    assert await scene.services.runtime.cast(config) == [
        await scene.services.personas.get(scene.guild.id, "vex")
    ]

    refused = await slash(scene, "scene cast add", scene.alice, persona="marta")
    assert "Only game masters" in refused.content
    assert (await scene.services.store.get_channel(scene.channel.id)).cast == ("vex",)


async def test_persona_autocomplete_offers_matching_personas(scene):
    await start(scene, "narrator", "vex")
    typed = await scene.fake.autocomplete(
        "scene cast add",
        focused="persona",
        value="mar",
        user_id=scene.gm.id,
        channel_id=scene.channel.id,
    )
    await scene.fake.wait_until(lambda: typed.autocomplete_choices is not None)
    assert [c["value"] for c in typed.autocomplete_choices] == ["marta"]

    seated = await scene.fake.autocomplete(
        "scene cast remove",
        focused="persona",
        value="",
        user_id=scene.gm.id,
        channel_id=scene.channel.id,
    )
    await scene.fake.wait_until(lambda: seated.autocomplete_choices is not None)
    assert sorted(c["value"] for c in seated.autocomplete_choices) == ["narrator", "vex"]


async def test_mode_and_setting(scene):
    await start(scene, "narrator")
    mode = await slash(scene, "scene mode", scene.gm, mode="auto", lull=5)
    assert mode.ephemeral and "after 5 s of quiet" in mode.content
    config = await scene.services.store.get_channel(scene.channel.id)
    assert (config.reply_mode, config.lull_seconds) == ("auto", 5.0)

    back = await slash(scene, "scene mode", scene.gm, mode="addressed")
    assert "only when addressed" in back.content
    config = await scene.services.store.get_channel(scene.channel.id)
    assert (config.reply_mode, config.lull_seconds) == ("addressed", 5.0)

    setting = await slash(scene, "scene setting", scene.gm, setting="Dawn breaks over the docks.")
    assert not setting.ephemeral  # the players should see where the story moved
    assert "Dawn breaks over the docks." in setting.content
    config = await scene.services.store.get_channel(scene.channel.id)
    assert (config.scene_name, config.scene_setting) == (
        "The Rusty Anchor",
        "Dawn breaks over the docks.",
    )
    turn = await scene.services.runtime.preview(scene.channel.id, "narrator")
    group = [m for m in turn.prompt.messages if m["role"] == "group"]
    assert group and "Dawn breaks over the docks." in group[0]["content"]

    empty = await slash(scene, "scene setting", scene.gm)
    assert empty.ephemeral and "Give a new" in empty.content


async def test_commands_need_a_running_scene(scene):
    for command in ("scene mode", "scene setting", "scene end"):
        options = {"mode": "auto"} if command == "scene mode" else {}
        answer = await slash(scene, command, scene.gm, **options)
        assert answer.ephemeral and "no scene running" in answer.content, command
    status = await slash(scene, "scene status", scene.alice)
    assert status.ephemeral and "never set up" in status.content


async def test_status_shows_cast_mode_memory_summary_and_tokens(scene):
    await start(scene, "narrator", "vex")
    store = scene.services.store
    await store.add_pin(scene.channel.id, "The harbour master is bribed.", scene.gm.id)
    latest = await store.latest_id(scene.channel.id)
    await store.save_summary(scene.channel.id, None, "They met.", latest)
    await store.record_usage(
        UsageRecord(
            guild_id=scene.guild.id,
            channel_id=scene.channel.id,
            user_id=scene.alice.id,
            persona_id="vex",
            prompt_tokens=1200,
            completion_tokens=300,
            cost_usd=0.25,
            created_at=time.time(),
        )
    )
    answer = await slash(scene, "scene status", scene.alice)
    assert answer.ephemeral
    text = answer.text
    for expected in (
        "The Rusty Anchor",
        "running",
        "The Narrator, Vex",
        "only when addressed",
        "2 message(s) · 1 pin(s)",
        "version 1",
        "by the model",
        "today $0.2500 · 1.5k",
        "all time $0.2500 · 1.5k",
    ):
        assert expected in text, (expected, text)


async def test_end_turns_roleplay_off_and_sends_the_transcript(scene):
    await start(scene, "marta")
    await scene.say(scene.alice, "I order a hot rum.")
    await wait_for_memory(scene, 2)

    answer = await slash(scene, "scene end", scene.gm)
    assert answer.ephemeral
    assert not (await scene.services.store.get_channel(scene.channel.id)).enabled
    (transcript,) = answer.files
    assert transcript.filename == "the-rusty-anchor-transcript.md"
    text = transcript.data.decode()
    greeting = (await memory_of(scene))[0].text
    assert text.startswith("# The Rusty Anchor")
    assert greeting in text and "I order a hot rum." in text
    assert text.index(greeting) < text.index("I order a hot rum.")
    assert "has ended" in public_messages(scene)[-1].content

    # Roleplay is off: players are no longer remembered or answered.
    await scene.say(scene.alice, "Marta? Hello?")
    await scene.settle(0.1)
    assert len(await memory_of(scene)) == 2
    assert scene.model.requests == []


async def test_end_can_post_the_transcript_in_the_channel(scene):
    await start(scene, "marta")
    answer = await slash(scene, "scene end", scene.gm, transcript="channel")
    assert "in the channel" in answer.content
    posts = [
        r for r in scene.fake.requests("POST", f"/channels/{scene.channel.id}/messages") if r.files
    ]
    assert len(posts) == 1
    assert "has ended" in posts[0].json["content"]
    assert posts[0].files[0].filename.endswith(".md")


async def test_reset_wipes_memory_after_confirmation(scene):
    await start(scene, "marta")
    store = scene.services.store
    await store.add_pin(scene.channel.id, "A pinned fact.", scene.gm.id)

    asked = await slash(scene, "scene reset", scene.gm)
    assert asked.callback_type == MESSAGE and asked.ephemeral
    assert "1 message(s)" in asked.content
    await press(scene, asked.interaction.original_message_id, "Cancel", scene.gm)
    cancelled = await edited(scene, asked)
    assert "nothing was erased" in cancelled["content"]
    assert len(await memory_of(scene)) == 1

    asked = await slash(scene, "scene reset", scene.gm)
    await press(scene, asked.interaction.original_message_id, "Wipe memory", scene.gm)
    wiped = await edited(scene, asked)
    assert "Memory wiped: 1 message(s)" in wiped["content"] and "1 pin(s)" in wiped["content"]
    assert wiped["components"] == []
    assert await memory_of(scene) == []
    assert await store.list_pins(scene.channel.id) == []
    assert (await store.get_channel(scene.channel.id)).cast == ("marta",)

    refused = await slash(scene, "scene reset", scene.alice)
    assert "Only game masters" in refused.content


async def edited(scene, asked):
    """The body of the bot's edit of its own question, once made."""
    answer = await answer_of(
        scene,
        asked.interaction,
        until=lambda i: any(c.kind == "edit_original" for c in i.calls),
    )
    return [c for c in answer.interaction.calls if c.kind == "edit_original"][-1].body


async def test_reset_during_a_reply_stops_it_and_leaves_memory_empty(scene):
    await scene.enable(cast=("narrator",))
    words = tuple(f"word{n} " for n in range(300))
    scene.model.script(Reply(chunks=words, chunk_delay=0.02))
    await scene.say(scene.alice, "Narrator, tell me a long story.")
    await scene.fake.wait_until(lambda: any(m.webhook_id for m in public_messages(scene)))

    asked = await slash(scene, "scene reset", scene.gm)
    await press(scene, asked.interaction.original_message_id, "Wipe memory", scene.gm)
    wiped = await edited(scene, asked)
    assert "Memory wiped: 2 message(s)" in wiped["content"]
    await turn_over(scene)
    assert await memory_of(scene) == []
    story = [m for m in public_messages(scene) if m.webhook_id][-1]
    assert "word299" not in story.content
