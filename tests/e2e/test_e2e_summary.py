"""History that outgrows the budget is folded into a summary that stays in the prompt."""

import dataclasses

from tests.fakes.model_server import Reply
from tests.harness import running_scene


async def store_history(scene, user, lines, *, first_discord_id):
    """Put old player lines straight into memory, as if the bot had seen them earlier."""
    for n, text in enumerate(lines):
        await scene.remember(user, text, discord_id=first_discord_id + n)


async def test_old_history_is_summarised_in_the_background_and_kept_in_the_prompt(tmp_path):
    async with running_scene(tmp_path, history_tokens=1000) as scene:
        await scene.enable(cast=("narrator",))
        events = [f"Event {n}: the caravan moves past milestone {n}. " * 3 for n in range(40)]
        await store_history(scene, scene.alice, events, first_discord_id=10_000)
        scene.model.script(
            Reply(text="The caravan halts."),
            Reply(text="Alice led the caravan past forty milestones."),
            Reply(text="Night falls."),
        )
        await scene.say(scene.alice, "Narrator, where are we?")
        await scene.wait_for_reply("The caravan halts.")
        await scene.fake.wait_until(lambda: len(scene.model.requests) >= 2, timeout=5)
        summary_request = scene.model.requests[1].body["messages"]
        assert "running summary" in summary_request[0]["content"]
        assert "Event 0:" in summary_request[1]["content"]
        summary = await scene.eventually(scene.summary_text, timeout=5)
        assert summary == "Alice led the caravan past forty milestones."
        stored = await scene.services.store.get_summary(scene.channel.id)
        assert stored.text == summary
        await scene.say(scene.alice, "Narrator, and now?")
        await scene.wait_for_reply("Night falls.", count=2)
        prompt = scene.model.requests[2].body["messages"]
        memory = next(m for m in prompt if m.get("name") == "Story so far")
        assert "forty milestones" in memory["content"]
        assert "forty milestones" not in prompt[0]["content"]  # never in the cached system text
        contents = " ".join(m["content"] for m in prompt if m["role"] == "user")
        assert "Event 0:" not in contents
        assert "Narrator, and now?" in contents
        assert await scene.services.store.count_messages(scene.channel.id) >= 43  # nothing lost


async def test_a_persona_that_joins_later_knows_only_what_happened_since(tmp_path):
    async with running_scene(tmp_path) as scene:
        config = await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="The Narrator nods: swordfish it is."))
        await scene.say(scene.alice, "Narrator, the secret password is swordfish.")
        await scene.wait_for_reply("swordfish it is")
        await scene.services.runtime.configure(
            dataclasses.replace(config, cast=("narrator", "marta"))
        )
        scene.model.script(Reply(text="Marta shrugs."), Reply(text="The Narrator smiles."))
        await scene.say(scene.alice, "Marta, do you know the password?")
        await scene.wait_for_reply("Marta shrugs.", count=2)
        marta_prompt = str(scene.model.requests[1].body["messages"])
        assert "swordfish" not in marta_prompt
        assert "do you know the password?" in marta_prompt
        await scene.say(scene.alice, "Narrator, remind me?")
        await scene.wait_for_reply("The Narrator smiles.", count=3)
        narrator_prompt = str(scene.model.requests[2].body["messages"])
        assert "swordfish" in narrator_prompt
        assert "Marta shrugs." in narrator_prompt


async def test_folding_history_keeps_a_late_joiners_view_in_its_own_summary(tmp_path):
    async with running_scene(tmp_path, history_tokens=1000) as scene:
        config = await scene.enable(cast=("narrator",))
        store, runtime = scene.services.store, scene.services.runtime
        clues = [f"Before Vex: clue {n}. " * 10 for n in range(5)]
        await store_history(scene, scene.alice, clues, first_discord_id=20_000)
        await runtime.configure(dataclasses.replace(config, cast=("narrator", "vex")))
        steps = [f"With Vex: step {n} across the rooftops. " * 4 for n in range(40)]
        await store_history(scene, scene.bob, steps, first_discord_id=30_000)

        def reply(request):
            first = request.messages[0]["content"]
            last = request.messages[-1]["content"] if request.messages else ""
            if "running summary" in first:
                if "Before Vex" in last:
                    return Reply(text="The channel recap.")
                return Reply(text="Vex's recap of the rooftops.")
            return Reply(text="The Narrator speaks.")

        scene.model.default_reply = reply
        await scene.say(scene.alice, "Narrator?")
        await scene.wait_for_reply("The Narrator speaks.")

        async def channel_recap():
            return await scene.summary_text() == "The channel recap."

        await scene.eventually(channel_recap, timeout=5)
        own = await store.get_summary(scene.channel.id, "vex")
        assert own is not None and own.text == "Vex's recap of the rooftops."
        turn = await runtime.preview(scene.channel.id, "vex")
        shown = str(turn.prompt.messages)
        assert "Vex's recap of the rooftops." in shown
        assert "The channel recap." not in shown
        assert "Before Vex" not in shown
