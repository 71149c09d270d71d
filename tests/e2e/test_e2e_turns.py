"""Who speaks and when: lulls, addressing, OOC, other bots, persona chains, floods."""

import asyncio

from tests.fakes.model_server import Reply
from tests.harness import running_scene


def user_lines(body):
    return [(m.get("name"), m["content"]) for m in body["messages"] if m["role"] == "user"]


async def test_three_players_in_one_lull_get_one_reply_answering_all(tmp_path):
    async with running_scene(tmp_path, lull_seconds=0.4) as scene:
        await scene.enable(cast=("narrator",), reply_mode="auto")
        scene.model.script(Reply(text="The door bangs open; all three of you turn."))
        await scene.say(scene.alice, "I order an ale.")
        await asyncio.sleep(0.1)
        await scene.say(scene.bob, "I watch the door.")
        await asyncio.sleep(0.1)
        await scene.say(scene.carol, "I tune my lute.")
        await scene.wait_for_reply("all three of you turn")
        await scene.settle(0.8)
        assert len(scene.model.requests) == 1
        assert len(scene.persona_messages()) == 1
        lines = user_lines(scene.model.requests[0].body)
        assert lines[-3:] == [
            ("Alice", "I order an ale."),
            ("Bob", "I watch the door."),
            ("Carol", "I tune my lute."),
        ]


async def test_typing_holds_back_an_automatic_reply(tmp_path):
    async with running_scene(tmp_path, lull_seconds=0.4) as scene:
        await scene.enable(cast=("narrator",), reply_mode="auto")
        await scene.say(scene.alice, "I light a candle.")
        for _ in range(4):
            await asyncio.sleep(0.2)
            await scene.fake.user_types(scene.channel.id, scene.bob.id)
        assert scene.model.requests == []  # 0.8 s passed, but Bob kept typing
        await scene.wait_for_reply()
        assert len(scene.model.requests) == 1


async def test_addressed_only_mode_waits_to_be_called(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator", "marta"), reply_mode="addressed")
        await scene.say(scene.alice, "I sit down quietly.")
        await scene.settle(0.6)
        assert scene.model.requests == []
        scene.model.script(Reply(text="Marta slides a mug over."))
        await scene.say(scene.alice, "Marta, an ale please!")
        await scene.wait_for_reply("Marta slides")
        system = scene.model.requests[0].body["messages"][0]
        assert system["name"] == "Marta Greyhollow"


async def test_reply_to_a_persona_message_addresses_that_persona(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator", "marta"))
        scene.model.script(Reply(text="Marta grins."), Reply(text="She winks again."))
        await scene.say(scene.alice, "Marta?")
        first = await scene.wait_for_reply("Marta grins.")
        await scene.say(scene.bob, "What was that about?", reply_to=first.id)
        await scene.wait_for_reply("She winks again.", count=2)
        assert scene.model.requests[1].body["messages"][0]["name"] == "Marta Greyhollow"


async def test_mentioning_the_bot_gets_an_answer(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="You are heard."))
        bot_id = scene.fake.bot_user.id
        await scene.say(scene.alice, f"<@{bot_id}> hello?")
        await scene.wait_for_reply("You are heard.")
        assert user_lines(scene.model.requests[0].body)[-1] == ("Alice", "@Ensemble hello?")


async def test_out_of_character_messages_are_not_answered_nor_prompted(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",), reply_mode="auto")
        await scene.say(scene.alice, "((brb, pizza))")
        await scene.say(scene.bob, "// Narrator, is this canon?")
        await scene.say(scene.carol, "OOC: Narrator, lag?")
        await scene.settle(0.8)
        assert scene.model.requests == []
        scene.model.script(Reply(text="The fire crackles."))
        await scene.say(scene.alice, "Narrator, I warm my hands.")
        await scene.wait_for_reply("The fire crackles.")
        contents = " ".join(c for _, c in user_lines(scene.model.requests[0].body))
        assert "pizza" not in contents
        assert "canon" not in contents
        assert "lag" not in contents


async def test_bot_ignores_other_bots_unless_allowlisted(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        await scene.say(scene.other_bot, "Narrator, obey me!")
        await scene.settle(0.5)
        assert scene.model.requests == []
    async with running_scene(tmp_path / "b") as scene:
        scene.settings.bot_allowlist.append(scene.other_bot.id)
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="Greetings, machine."))
        await scene.say(scene.other_bot, "Narrator, obey me!")
        await scene.wait_for_reply("Greetings, machine.")


async def test_persona_replies_never_trigger_more_replies_on_their_own(tmp_path):
    async with running_scene(tmp_path, persona_turn_budget=0) as scene:
        await scene.enable(cast=("narrator", "marta"), reply_mode="auto")
        scene.model.script(Reply(text="Marta? Marta! The Narrator calls you."))
        await scene.say(scene.alice, "Narrator, who runs this place?")
        await scene.wait_for_reply("calls you")
        await scene.settle(1.0)
        assert len(scene.model.requests) == 1


async def test_persona_chain_stays_within_budget(tmp_path):
    async with running_scene(tmp_path, persona_turn_budget=1) as scene:
        await scene.enable(cast=("narrator", "marta", "vex"))
        scene.model.script(
            Reply(text="The Narrator turns to Marta: what say you?"),
            Reply(text="Marta shrugs and looks at Vex."),
            Reply(text="Vex yawns."),
        )
        await scene.say(scene.alice, "Narrator, describe the room.")
        await scene.wait_for_reply("Marta shrugs", count=2, timeout=10)
        await scene.settle(1.2)
        names = [r.body["messages"][0]["name"] for r in scene.model.requests]
        assert names == ["The Narrator", "Marta Greyhollow"]


async def test_a_human_message_stops_a_pending_chain(tmp_path):
    async with running_scene(tmp_path, persona_turn_budget=3) as scene:
        await scene.enable(cast=("narrator", "marta"))
        scene.model.script(Reply(text="Over to you, Marta.", chunk_delay=0.05))
        await scene.say(scene.alice, "Narrator?")
        await scene.fake.wait_until(lambda: scene.model.requests, timeout=5)
        await scene.say(scene.bob, "Wait, I have a question first.")
        await scene.wait_for_reply("Over to you")
        await scene.settle(1.0)
        assert len(scene.model.requests) == 1


async def test_flooding_player_is_slowed_with_a_notice_and_nothing_is_lost(tmp_path):
    async with running_scene(tmp_path, user_cooldown_seconds=5.0) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="Slow down, traveller."))
        await scene.say(scene.alice, "Narrator, one")
        await scene.wait_for_reply("Slow down")
        for n in range(3):
            await scene.say(scene.alice, f"Narrator, spam {n}")
        notice = await scene.fake.wait_until(
            lambda: next(
                (
                    m
                    for m in scene.fake.messages_in(scene.channel.id)
                    if "writing faster" in m.content
                ),
                None,
            ),
            timeout=5,
        )
        assert "Alice" in notice.content
        await scene.settle(0.3)
        assert len(scene.model.requests) == 1
        window = await scene.services.store.window(scene.channel.id, limit=50)
        assert [r.text for r in window][-3:] == [f"Narrator, spam {n}" for n in range(3)]


async def test_a_channel_can_keep_ooc_lines_marked_in_the_prompt(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",), ooc_mode="mark")
        await scene.say(scene.alice, "((the dragon is my favourite part))")
        scene.model.script(Reply(text="The dragon stirs."))
        await scene.say(scene.alice, "Narrator, what stirs?")
        await scene.wait_for_reply("The dragon stirs.")
        assert "favourite part" in str(scene.model.requests[0].body["messages"])
