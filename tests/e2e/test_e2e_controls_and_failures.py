"""Buttons, provider failures, proxies and restarts, end to end."""

import asyncio

from bot.models import ReplyStatus
from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer, HttpError, Reply
from tests.harness import build_settings, running_scene, start_bot


def buttons(message):
    return [
        component["custom_id"]
        for row in message.components
        for component in row.get("components", [])
        if "custom_id" in component
    ]


def button(message, action):
    return next(cid for cid in buttons(message) if cid.startswith(f"ens:{action}:"))


async def reply_record(scene, message):
    return await scene.services.store.get_by_discord_id(message.id)


async def test_rate_limited_model_is_retried_before_the_first_token(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(HttpError(429, retry_after=0.2), Reply(text="After a breath."))
        await scene.say(scene.alice, "Narrator?")
        reply = await scene.wait_for_reply("After a breath.")
        assert len(scene.model.requests) == 2
        assert scene.model.requests[1].arrived_at - scene.model.requests[0].arrived_at >= 0.2
        assert "⚠️" not in reply.content


async def test_mid_stream_error_keeps_text_marks_it_and_retry_works(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(
            Reply(chunks=["The bridge ", "creaks and "], error_after=2, chunk_delay=0.02),
            Reply(text="The bridge holds."),
        )
        await scene.say(scene.alice, "Narrator, I cross the bridge.")
        failed = await scene.wait_for_reply("interrupted")
        assert failed.content.startswith("The bridge creaks and")
        assert "⚠️" in failed.content
        record = await reply_record(scene, failed)
        assert record.status is ReplyStatus.INTERRUPTED
        assert record.text == "The bridge creaks and"  # trailing space held back, never shown
        await scene.fake.click(failed.id, button(failed, "retry"), scene.alice.id)
        fixed = await scene.fake.wait_until(
            lambda: scene.fake.message(failed.id).content == "The bridge holds." or None,
            timeout=5,
        )
        assert fixed
        record = await reply_record(scene, failed)
        assert record.text == "The bridge holds."
        assert record.status is ReplyStatus.COMPLETE
        assert (record.swipe_index, record.swipe_count) == (1, 2)


async def test_bad_key_is_explained_and_the_owner_told_once(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(HttpError(401), HttpError(401))
        await scene.say(scene.alice, "Narrator?")
        failed = await scene.wait_for_reply("misconfigured")
        assert "key" in failed.content
        await scene.say(scene.alice, "Narrator, again?")
        await scene.wait_for_reply("misconfigured", count=2)
        await scene.settle(0.3)
        dm = scene.fake.dm_channel(scene.admin.id)
        alerts = [m for m in scene.fake.messages_in(dm.id) if "LLM_API_KEY" in m.content]
        assert len(alerts) == 1
        assert scene.model.api_key not in alerts[0].content


async def test_regenerate_then_flip_between_alternatives(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="Version one."), Reply(text="Version two."))
        await scene.say(scene.alice, "Narrator, surprise me.")
        reply = await scene.wait_for_reply("Version one.")
        await scene.fake.click(reply.id, button(reply, "regen"), scene.bob.id)
        await scene.fake.wait_until(
            lambda: scene.fake.message(reply.id).content == "Version two." or None, timeout=5
        )
        regen_request = scene.model.requests[1].body["messages"]
        assert all(m["content"] != "Version one." for m in regen_request)
        current = scene.fake.message(reply.id)
        await scene.fake.wait_until(lambda: "ens:prev" in " ".join(buttons(current)) or None)
        await scene.fake.click(reply.id, button(current, "prev"), scene.alice.id)
        await scene.fake.wait_until(
            lambda: scene.fake.message(reply.id).content == "Version one." or None, timeout=5
        )
        record = await reply_record(scene, reply)
        assert record.text == "Version one."
        assert record.swipe_index == 0
        window = await scene.services.store.window(scene.channel.id, limit=10)
        assert window[-1].text == "Version one."  # memory follows what is shown


async def test_only_the_newest_reply_carries_buttons(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="One."), Reply(text="Two."))
        await scene.say(scene.alice, "Narrator?")
        first = await scene.wait_for_reply("One.")
        assert buttons(first)
        await scene.say(scene.alice, "Narrator, more?")
        await scene.wait_for_reply("Two.", count=2)
        # Removing old buttons is housekeeping: it waits for spare rate-limit room (<= 5 s).
        await scene.fake.wait_until(
            lambda: not buttons(scene.fake.message(first.id)) or None, timeout=10
        )
        assert buttons(scene.persona_messages()[-1])


async def test_continue_after_the_length_cap(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(
            Reply(text="The tale begins and", finish_reason="length"),
            Reply(text="then it ends."),
        )
        await scene.say(scene.alice, "Narrator, a tale.")
        cut = await scene.wait_for_reply("The tale begins and")
        assert cut.content.endswith("…")
        await scene.fake.click(cut.id, button(cut, "cont"), scene.alice.id)
        await scene.fake.wait_until(
            lambda: (
                scene.fake.message(cut.id).content == "The tale begins and then it ends." or None
            ),
            timeout=5,
        )
        body = scene.model.requests[1].body["messages"]
        assert any(m["content"] == "The tale begins and" for m in body)
        record = await reply_record(scene, cut)
        assert record.text == "The tale begins and then it ends."


async def test_stop_button_ends_the_stream_and_keeps_the_text(tmp_path):
    async with running_scene(tmp_path, stream_edit_interval=0.05) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(chunks=[f"w{n} " for n in range(100)], chunk_delay=0.05))
        await scene.say(scene.alice, "Narrator, ramble.")
        streaming = await scene.fake.wait_until(
            lambda: next((m for m in scene.persona_messages() if "w3" in m.content), None)
        )
        await scene.fake.click(streaming.id, button(streaming, "stop"), scene.alice.id)
        await scene.fake.wait_until(
            lambda: not scene.fake.message(streaming.id).content.endswith("▌") or None,
            timeout=5,
        )
        await scene.settle(0.2)
        final = scene.fake.message(streaming.id).content
        assert final.startswith("w0 w1")
        assert "w99" not in final
        record = await reply_record(scene, streaming)
        assert record.status is ReplyStatus.COMPLETE
        assert record.text.startswith("w0 w1")


async def test_pluralkit_proxy_counts_as_the_character_and_is_answered_once(tmp_path):
    async with running_scene(tmp_path, proxy_wait_seconds=0.5) as scene:
        await scene.enable(cast=("narrator",))
        # The channel has seen the proxy before, so the bot knows to wait for it.
        await scene.fake.proxy_says(scene.channel.id, "Lyra the Bard", "*strums*")
        scene.model.script(Reply(text="The crowd hushes for Lyra."))
        original = await scene.say(scene.alice, "Lyra: Narrator, I sing!")
        await asyncio.sleep(0.1)
        await scene.fake.proxy_says(
            scene.channel.id, "Lyra the Bard", "Narrator, I sing!", replaces=int(original["id"])
        )
        await scene.wait_for_reply("crowd hushes")
        await scene.settle(0.8)
        assert len(scene.model.requests) == 1
        lines = [
            (m.get("name"), m["content"])
            for m in scene.model.requests[0].body["messages"]
            if m["role"] == "user"
        ]
        assert ("Lyra the Bard", "*strums*\nNarrator, I sing!") in lines
        assert all("Lyra: Narrator" not in c for _, c in lines)


async def test_restart_mid_scene_resumes_from_memory_without_a_duplicate(tmp_path):
    async with FakeDiscord() as fake, FakeModelServer() as model:
        model.script(Reply(text="Welcome back, travellers."))
        async with running_scene(tmp_path, fake=fake, model=model) as scene:
            await scene.enable(cast=("narrator",))
            await scene.say(scene.alice, "Narrator, we arrive at the inn.")
            await scene.wait_for_reply("Welcome back")
            channel_id, alice = scene.channel.id, scene.alice
        # The bot is down; a new process starts on the same database file.
        settings = build_settings(fake, model, tmp_path)
        async with start_bot(fake, settings):
            await asyncio.sleep(0.3)
            first = next(m for m in fake.messages_in(channel_id) if m.webhook_id)
            assert buttons(first)  # still on the newest reply while the bot was down
            assert len(model.requests) == 1  # nothing is answered twice after the restart
            model.script(Reply(text="You remember the inn."))
            await fake.user_says(channel_id, alice.id, "Narrator, what happened before?")
            await fake.wait_until(
                lambda: any("You remember" in m.content for m in fake.messages_in(channel_id)),
                timeout=5,
            )
            await fake.wait_until(lambda: not buttons(fake.message(first.id)) or None, timeout=10)
        history = [m["content"] for m in model.requests[1].body["messages"]]
        assert "Narrator, we arrive at the inn." in history
        assert "Welcome back, travellers." in history
        bot_messages = [m for m in fake.messages_in(channel_id) if m.webhook_id]
        assert len(bot_messages) == 2
        # The reply from before the restart lost its buttons too (memory knew where it was).
        assert not buttons(fake.message(bot_messages[0].id))
        assert buttons(bot_messages[1])


async def test_only_the_newest_reply_can_be_changed(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="Old news."), Reply(text="Fresh news."))
        await scene.say(scene.alice, "Narrator?")
        old = await scene.wait_for_reply("Old news.")
        old_button = button(old, "regen")
        await scene.say(scene.alice, "Narrator, and then?")
        await scene.wait_for_reply("Fresh news.", count=2)
        pressed = await scene.fake.click(old.id, old_button, scene.bob.id)
        await scene.fake.wait_until(lambda: scene.fake.interaction_responses(pressed.id) or None)
        reply = scene.fake.interaction_responses(pressed.id)[0].body["data"]
        assert reply["content"].startswith("Only the newest reply can be changed")
        assert reply["flags"] & 64
        await scene.settle(0.3)
        assert len(scene.model.requests) == 2
        assert scene.fake.message(old.id).content == "Old news."
