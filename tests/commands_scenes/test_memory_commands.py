"""/memory show, edit, rollback, pin and unpin, and /rewind (command and message menu)."""

from tests.commands_scenes.helpers import memory_of, wait_for_memory
from tests.fakes.model_server import Reply
from tests.interactions import MODAL, answer_of, message_command, slash


async def test_show_edit_and_rollback_the_summary(scene):
    await scene.enable(cast=("narrator",))
    store = scene.services.store

    empty = await slash(scene, "memory show", scene.alice)
    assert empty.ephemeral and "No summary yet" in empty.text

    saved = await slash(scene, "memory edit", scene.gm, text="The crew reached Saltmere.")
    assert saved.ephemeral and "version 1" in saved.content
    summary = await store.get_summary(scene.channel.id)
    assert (summary.text, summary.author_id, summary.covers_until) == (
        "The crew reached Saltmere.",
        scene.gm.id,
        0,
    )
    turn = await scene.services.runtime.preview(scene.channel.id, "narrator")
    assert any("The crew reached Saltmere." in m["content"] for m in turn.prompt.messages)

    await slash(scene, "memory edit", scene.gm, text="They docked at dawn.")
    shown = await slash(scene, "memory show", scene.bob)
    assert "They docked at dawn." in shown.text and f"<@{scene.gm.id}>" in shown.text

    rolled = await slash(scene, "memory rollback", scene.gm)
    assert "version 1" in rolled.content
    assert (await store.get_summary(scene.channel.id)).text == "The crew reached Saltmere."
    turn = await scene.services.runtime.preview(scene.channel.id, "narrator")
    assert not any("They docked at dawn." in m["content"] for m in turn.prompt.messages)


async def test_edit_opens_a_form_with_the_current_summary(scene):
    await scene.enable(cast=("narrator",))
    await slash(scene, "memory edit", scene.gm, text="Old summary.")
    form = await slash(scene, "memory edit", scene.gm)
    assert form.callback_type == MODAL
    (field,) = [
        c
        for row in form.body["components"]
        for c in row.get("components", [row.get("component", {})])
        if c.get("type") == 4
    ]
    assert field["value"] == "Old summary."

    submitted = await scene.fake.submit_modal(
        form.body["custom_id"], {field["custom_id"]: "New summary."}, scene.gm.id, scene.channel.id
    )
    answer = await answer_of(scene, submitted)
    assert answer.ephemeral and "version 2" in answer.content
    summary = await scene.services.store.get_summary(scene.channel.id)
    assert summary.text == "New summary."


async def test_pins_reach_the_prompt_and_can_be_removed(scene):
    await scene.enable(cast=("narrator",))
    pinned = await slash(scene, "memory pin", scene.gm, text="Alice owes Marta ten silver.")
    assert pinned.ephemeral
    (pin,) = await scene.services.store.list_pins(scene.channel.id)
    assert f"`{pin.id}`" in pinned.content and pin.author_id == scene.gm.id

    scene.model.script(Reply(text="The fog thickens."))
    await scene.say(scene.alice, "Narrator, what happens next?")
    await scene.wait_for_reply("The fog thickens.")
    prompt = scene.model.requests[-1].body["messages"]
    assert any("Alice owes Marta ten silver." in m["content"] for m in prompt)

    shown = await slash(scene, "memory show", scene.alice)
    assert "Alice owes Marta ten silver." in shown.text

    typed = await scene.fake.autocomplete(
        "memory unpin",
        focused="pin",
        value="silver",
        user_id=scene.gm.id,
        channel_id=scene.channel.id,
    )
    await scene.fake.wait_until(lambda: typed.autocomplete_choices is not None)
    assert [c["value"] for c in typed.autocomplete_choices] == [pin.id]

    removed = await slash(scene, "memory unpin", scene.gm, pin=pin.id)
    assert "removed" in removed.content
    assert await scene.services.store.list_pins(scene.channel.id) == []
    turn = await scene.services.runtime.preview(scene.channel.id, "narrator")
    assert not any("ten silver" in m["content"] for m in turn.prompt.messages)

    missing = await slash(scene, "memory unpin", scene.gm, pin=pin.id)
    assert missing.ephemeral and "no pin" in missing.content


async def test_players_read_memory_but_only_game_masters_change_it(scene):
    await scene.enable(cast=("narrator",))
    for command, options in (
        ("memory pin", {"text": "Nope."}),
        ("memory edit", {"text": "Nope."}),
        ("memory rollback", {}),
        ("rewind", {"message": "123"}),
    ):
        answer = await slash(scene, command, scene.carol, **options)
        assert answer.ephemeral and "Only game masters" in answer.content, command
    assert await scene.services.store.list_pins(scene.channel.id) == []
    assert await scene.services.store.get_summary(scene.channel.id) is None


async def test_memory_commands_need_a_configured_channel(scene):
    answer = await slash(scene, "memory pin", scene.gm, text="Too early.")
    assert answer.ephemeral and "never set up" in answer.content


async def test_rewind_by_link_forgets_everything_after(scene):
    await scene.enable(cast=("narrator",))
    first = await scene.say(scene.alice, "I open the door.")
    await scene.say(scene.bob, "I light a torch.")
    await scene.say(scene.carol, "I draw my sword.")
    await wait_for_memory(scene, 3)

    link = f"https://discord.com/channels/{scene.guild.id}/{scene.channel.id}/{first['id']}"
    answer = await slash(scene, "rewind", scene.gm, message=link)
    assert not answer.ephemeral and "2 later message(s) are forgotten" in answer.content
    assert [line.text for line in await memory_of(scene)] == ["I open the door."]

    scene.model.script(Reply(text="The door creaks."))
    await scene.say(scene.alice, "Narrator, what's inside?")
    await scene.wait_for_reply("The door creaks.")
    prompt = " ".join(m["content"] for m in scene.model.requests[-1].body["messages"])
    assert "I open the door." in prompt
    assert "torch" not in prompt and "sword" not in prompt


async def test_rewind_refuses_unclear_messages(scene):
    await scene.enable(cast=("narrator",))
    said = await scene.say(scene.alice, "Hello.")
    await wait_for_memory(scene, 1)
    elsewhere = f"https://discord.com/channels/{scene.guild.id}/42/{said['id']}"
    for reference, reason in (
        (elsewhere, "another channel"),
        ("not a message", "message link"),
        ("123456789", "isn't in this scene's memory"),
    ):
        answer = await slash(scene, "rewind", scene.gm, message=reference)
        assert answer.ephemeral and reason in answer.content, reference
    assert len(await memory_of(scene)) == 1


async def test_rewind_to_here_from_the_message_menu(scene):
    await scene.enable(cast=("narrator",))
    first = await scene.say(scene.alice, "We set sail.")
    await scene.say(scene.bob, "A storm hits.")
    await wait_for_memory(scene, 2)

    refused = await message_command(scene, "Rewind to here", int(first["id"]), scene.alice)
    assert refused.ephemeral and "Only game masters" in refused.content
    assert len(await memory_of(scene)) == 2

    answer = await message_command(scene, "Rewind to here", int(first["id"]), scene.gm)
    assert "1 later message(s) are forgotten" in answer.content
    assert [line.text for line in await memory_of(scene)] == ["We set sail."]
