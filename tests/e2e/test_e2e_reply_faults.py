"""Every reply ends in a visible final state, end to end: the real discord.py client against
the fake Discord, with faults injected at Discord's side and the model's.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.models import ReplyStatus
from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer, Reply
from tests.harness import Scene, build_settings, running_scene, start_bot

MARKER = "▌"
LONG = " ".join(f"word{n}" for n in range(400))
"""About 2,800 characters: two Discord messages."""


def buttons(message) -> list[str]:
    return [
        component["custom_id"]
        for row in message.components
        for component in row.get("components", [])
        if "custom_id" in component
    ]


def terminal(message) -> bool:
    """No cursor and no Stop button: the message looks finished."""
    return not message.content.endswith(MARKER) and not any(
        cid.startswith("ens:stop:") for cid in buttons(message)
    )


async def stored_reply(scene: Scene):
    records = await scene.services.store.window(scene.channel.id, limit=50)
    persona = [r for r in records if r.persona_id is not None]
    assert len(persona) == 1
    return persona[0]


async def first_persona_message(scene: Scene):
    return await scene.fake.wait_until(lambda: next(iter(scene.persona_messages()), None))


@pytest.mark.parametrize(
    ("status", "code", "times"),
    [(403, 50013, 1), (400, 50035, 1), (500, None, 3)],
    ids=["403", "400", "5xx outlasting discord.py's retries"],
)
async def test_a_refused_edit_mid_stream_ends_interrupted_with_retry(
    tmp_path, caplog, status, code, times
):
    caplog.set_level(logging.WARNING, "bot")
    async with running_scene(
        tmp_path, stream_edit_interval=0.05, discord_write_timeout=2.0
    ) as scene:
        await scene.enable()
        scene.model.script(Reply(text=LONG[:600], chunk_delay=0.02))
        await scene.say(scene.alice, "Narrator, tell the long tale.")
        first = await first_persona_message(scene)
        scene.fake.fail_next("PATCH", f"/webhooks/*/messages/{first.id}", status, code, times=times)
        await scene.wait_for_reply("refused")
        message = scene.fake.message(first.id)
        assert terminal(message)
        assert any(cid.startswith("ens:retry:") for cid in buttons(message))
        record = await stored_reply(scene)
        assert record.status is ReplyStatus.INTERRUPTED
        shown = message.content.split("\n-# ")[0]
        assert record.text == shown  # memory keeps exactly what the channel shows
        warning = next(r for r in caplog.records if "Discord refused" in r.getMessage())
        assert str(scene.channel.id) in warning.getMessage()
        assert str(first.id) in warning.getMessage()


async def test_a_discord_outage_is_bounded_and_the_players_are_told(tmp_path):
    async with running_scene(
        tmp_path, stream_edit_interval=0.05, discord_write_timeout=1.0
    ) as scene:
        await scene.enable()
        scene.model.script(Reply(text=LONG[:600], chunk_delay=0.02))
        await scene.say(scene.alice, "Narrator, tell the long tale.")
        first = await first_persona_message(scene)
        # Every later edit of this message fails: discord.py would retry a 502 for ~25 s.
        scene.fake.fail_next("PATCH", f"/webhooks/*/messages/{first.id}", 502, times=1000)
        started = asyncio.get_running_loop().time()
        notice = await scene.fake.wait_until(
            lambda: next(
                (
                    m
                    for m in scene.fake.messages_in(scene.channel.id)
                    if "could not be finished" in m.content
                ),
                None,
            ),
            timeout=15,
        )
        assert asyncio.get_running_loop().time() - started < 15
        assert notice.author_id == scene.fake.bot_user.id
        await scene.fake.wait_until(lambda: not scene.services.runtime.is_busy(scene.channel.id))
        record = await stored_reply(scene)
        assert record.status is ReplyStatus.INTERRUPTED
        assert record.text == scene.fake.message(first.id).content.removesuffix(" " + MARKER)


async def test_a_deleted_webhook_mid_stream_is_replaced_and_the_reply_finished(tmp_path):
    async with running_scene(tmp_path, stream_edit_interval=0.05) as scene:
        await scene.enable()
        scene.model.script(Reply(text=LONG[:900], chunk_delay=0.02))
        await scene.say(scene.alice, "Narrator, tell the long tale.")
        first = await first_persona_message(scene)
        await scene.fake.delete_webhook(first.webhook_id)
        final = await scene.wait_for_reply(LONG[880:900])
        assert final.id != first.id and final.webhook_id != first.webhook_id
        assert terminal(final) and buttons(final)
        assert scene.fake.message(first.id).deleted  # the orphan was removed by the bot
        record = await stored_reply(scene)
        assert (record.status, record.text) == (ReplyStatus.COMPLETE, LONG[:900])
        assert record.discord_ids == (final.id,)


async def test_an_empty_completion_shows_a_failed_state_with_retry(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable()
        scene.model.script(Reply(text="", chunks=("  ",)), Reply(text="There you are."))
        await scene.say(scene.alice, "Narrator?")
        failed = await scene.wait_for_reply("No reply came")
        assert terminal(failed)
        (retry,) = [cid for cid in buttons(failed) if cid.startswith("ens:retry:")]
        assert (await stored_reply(scene)).status is ReplyStatus.FAILED
        await scene.fake.click(failed.id, retry, scene.alice.id)
        await scene.fake.wait_until(
            lambda: scene.fake.message(failed.id).content == "There you are." or None
        )
        await scene.fake.wait_until(lambda: not scene.services.runtime.is_busy(scene.channel.id))
        record = await stored_reply(scene)
        assert (record.status, record.text) == (ReplyStatus.COMPLETE, "There you are.")
        history = scene.model.requests[1].body["messages"]
        assert all(m["role"] != "assistant" for m in history)  # the failure never reached it


async def test_deleting_one_part_of_a_long_reply_forgets_only_that_part(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable()
        scene.model.script(Reply(text=LONG))
        await scene.say(scene.alice, "Narrator, tell the long tale.")
        await scene.wait_for_reply("word399")
        first, second = scene.persona_messages()
        await scene.fake.user_deletes(second.id)

        async def trimmed():
            record = await stored_reply(scene)
            return record if record.discord_ids == (first.id,) else None

        record = await scene.eventually(trimmed, timeout=5)
        assert record.text == first.content.removesuffix(" ").strip() or (
            record.text in first.content
        )
        assert "word399" not in record.text and "word0" in record.text


async def test_a_player_flooding_is_answered_after_the_pause(tmp_path):
    async with running_scene(tmp_path, user_cooldown_seconds=0.5) as scene:
        await scene.enable()
        scene.model.script(Reply(text="One answer."), Reply(text="Another answer."))
        await scene.say(scene.alice, "Narrator, first thing.")
        await scene.say(scene.alice, "Narrator, and a second thing!")
        await scene.fake.wait_until(
            lambda: any(
                "writing faster" in m.content for m in scene.fake.messages_in(scene.channel.id)
            ),
            timeout=5,
        )
        await scene.fake.wait_until(
            lambda: (
                len(scene.model.requests) >= 1
                and not scene.services.runtime.is_busy(scene.channel.id)
                and not scene.services.runtime.has_pending_turn(scene.channel.id)
            ),
            timeout=10,
        )
        asked = [str(r.body["messages"]) for r in scene.model.requests]
        assert any("a second thing" in request for request in asked)


async def test_closing_the_bot_interrupts_the_reply_and_stores_it(tmp_path):
    async with FakeDiscord() as fake, FakeModelServer() as model:
        settings = build_settings(fake, model, tmp_path, stream_edit_interval=0.05)
        model.script(Reply(text=LONG[:600], chunk_delay=0.05))
        async with running_scene(tmp_path, fake=fake, model=model) as scene:
            await scene.enable()
            await scene.say(scene.alice, "Narrator, tell the long tale.")
            first = await first_persona_message(scene)
            await scene.bot.close()
            message = fake.message(first.id)
            assert terminal(message) and "shutting down" in message.content
            record = await scene.services.store.get_by_discord_id(first.id)
            assert record.status is ReplyStatus.INTERRUPTED
            assert record.text == message.content.split("\n-# ")[0]
        del settings


async def test_lines_posted_while_the_bot_was_down_are_answered(tmp_path):
    async with FakeDiscord() as fake, FakeModelServer() as model:
        model.script(Reply(text="Welcome."), Reply(text="Ah, Bob, you made it."))
        async with running_scene(tmp_path, fake=fake, model=model) as scene:
            await scene.enable()
            await scene.say(scene.alice, "Narrator, we arrive.")
            await scene.wait_for_reply("Welcome.")
            channel_id, bob = scene.channel.id, scene.bob
        await fake.user_says(channel_id, bob.id, "Sorry I'm late.")
        await fake.user_says(channel_id, bob.id, "Narrator, did I miss anything?")
        settings = build_settings(fake, model, tmp_path)
        async with start_bot(fake, settings) as (_, services):
            await fake.wait_until(
                lambda: any("you made it" in m.content for m in fake.messages_in(channel_id)),
                timeout=10,
            )
            texts = [r.text for r in await services.store.window(channel_id, limit=20)]
        assert texts[-3:] == [
            "Sorry I'm late.",
            "Narrator, did I miss anything?",
            "Ah, Bob, you made it.",
        ]
        assert len(model.requests) == 2


async def test_lines_lost_with_a_session_that_could_not_be_resumed_are_answered(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable()
        scene.model.script(Reply(text="Welcome."), Reply(text="Ah, Bob."))
        await scene.say(scene.alice, "Narrator, we arrive.")
        await scene.wait_for_reply("Welcome.")
        # Discord drops the session for good: discord.py re-identifies after its 5 s wait,
        # and nothing said meanwhile is replayed to the new session.
        await scene.fake.invalidate_session(resumable=False)
        await scene.say(scene.bob, "Narrator, did I miss anything?")
        answer = await scene.wait_for_reply("Ah, Bob.", count=2, timeout=20)
        assert answer.content.startswith("Ah, Bob.")
        texts = [r.text for r in await scene.services.store.window(scene.channel.id, limit=10)]
        assert texts[-2:] == ["Narrator, did I miss anything?", "Ah, Bob."]
        assert len(scene.model.requests) == 2
