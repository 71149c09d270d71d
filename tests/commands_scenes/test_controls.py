"""/regenerate, /continue and /stop: the reply buttons as commands."""

import time

from bot.memory import UsageRecord
from bot.models import ReplyStatus
from tests.commands_scenes.helpers import memory_of, turn_over
from tests.fakes.model_server import Reply
from tests.interactions import slash


async def first_reply(scene, text="The lamp flickers.", **reply):
    await scene.enable(cast=("narrator",))
    scene.model.script(Reply(text=text, **reply))
    await scene.say(scene.alice, "Narrator, what do I see?")
    shown = await scene.wait_for_reply(text)
    await turn_over(scene)
    return shown


async def test_regenerate_writes_a_new_alternative(scene):
    shown = await first_reply(scene)
    scene.model.script(Reply(text="A draught snuffs the lamp."))
    answer = await slash(scene, "regenerate", scene.bob, timeout=10)
    assert answer.ephemeral and "Done" in answer.content
    assert scene.fake.message(shown.id).content == "A draught snuffs the lamp."
    assert len(scene.model.requests) == 2
    reply = [line for line in await memory_of(scene) if line.persona_id][-1]
    assert (reply.text, reply.swipe_count, reply.swipe_index) == (
        "A draught snuffs the lamp.",
        2,
        1,
    )
    # The new take is asked for without the reply it replaces.
    second = " ".join(m["content"] for m in scene.model.requests[-1].body["messages"])
    assert "The lamp flickers." not in second


async def test_continue_extends_a_cut_off_reply(scene):
    shown = await first_reply(scene, "The door opens onto", finish_reason="length")
    scene.model.script(Reply(text=" a hall of mirrors."))
    answer = await slash(scene, "continue", scene.alice, timeout=10)
    assert "Done" in answer.content
    await turn_over(scene)
    content = scene.fake.message(shown.id).content
    assert content.startswith("The door opens onto") and content.endswith("a hall of mirrors.")
    reply = [line for line in await memory_of(scene) if line.persona_id][-1]
    assert reply.text == content
    assert len(scene.model.requests) == 2


async def test_stop_ends_a_reply_in_progress(scene):
    await scene.enable(cast=("narrator",))
    words = tuple(f"word{n} " for n in range(200))
    scene.model.script(Reply(chunks=words, chunk_delay=0.02))
    await scene.say(scene.alice, "Narrator, tell me everything.")
    await scene.fake.wait_until(lambda: scene.persona_messages())

    answer = await slash(scene, "stop", scene.carol)
    assert answer.ephemeral and "Stopped" in answer.content
    await turn_over(scene)
    (reply,) = [line for line in await memory_of(scene) if line.persona_id]
    assert reply.status is ReplyStatus.COMPLETE
    assert reply.text.startswith("word0") and "word199" not in reply.text
    shown = scene.fake.message(reply.discord_ids[0]).content
    assert shown.startswith("word0") and "word199" not in shown

    idle = await slash(scene, "stop", scene.carol)
    assert idle.ephemeral and "Nobody is speaking" in idle.content


async def test_controls_explain_when_there_is_nothing_to_do(scene):
    answer = await slash(scene, "regenerate", scene.alice)
    assert answer.ephemeral and "no scene running" in answer.content
    await scene.enable(cast=("narrator",))
    answer = await slash(scene, "continue", scene.alice)
    assert answer.ephemeral and "no persona reply here" in answer.content
    assert scene.model.requests == []


async def test_regenerate_respects_the_budget(scene):
    await first_reply(scene)
    settings = await scene.services.store.get_guild_settings(scene.guild.id)
    await slash(scene, "budget user", scene.admin, usd=0.001)
    await scene.services.store.record_usage(
        UsageRecord(
            guild_id=settings.guild_id,
            channel_id=scene.channel.id,
            user_id=scene.bob.id,
            persona_id="narrator",
            prompt_tokens=1,
            completion_tokens=1,
            cost_usd=0.01,
            created_at=time.time(),
        )
    )
    refused = await slash(scene, "regenerate", scene.bob)
    assert refused.ephemeral and "daily share of the model budget" in refused.content
    assert len(scene.model.requests) == 1
    reply = [line for line in await memory_of(scene) if line.persona_id][-1]
    assert reply.swipe_count == 1 and reply.status is ReplyStatus.COMPLETE
