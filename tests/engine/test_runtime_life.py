"""The runtime's promises beyond one reply: stop, shutdown, flooding, crash recovery, backfill."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.engine import Look
from bot.engine.recovery import RESTART_NOTE
from bot.memory import NewMessage
from bot.models import AuthorKind, ReplyStatus
from tests.engine.conftest import CHANNEL, GUILD, Stage
from tests.engine.recording_port import STREAMING, TERMINAL, Message
from tests.fakes.model_server import Reply

LONG = " ".join(f"word{n}" for n in range(60))


async def wait_for_messages(stage: Stage, count: int) -> list[Message]:
    async with asyncio.timeout(10):
        while len(stage.port.reply_messages()) < count:
            await asyncio.sleep(0.01)
    return stage.port.reply_messages()


async def replies(stage: Stage):
    return [r for r in await stage.memory() if r.kind is AuthorKind.PERSONA]


async def test_a_stopped_reply_keeps_what_was_written_as_complete(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text=LONG, chunk_delay=0.03))
    await stage.say("Narrator, talk.")
    await wait_for_messages(stage, 1)
    assert stage.runtime.stop(CHANNEL)
    await stage.quiet()
    (reply,) = await replies(stage)
    assert reply.status is ReplyStatus.COMPLETE
    assert 0 < len(reply.text) < len(LONG)
    for message in stage.port.reply_messages():
        assert message.look in TERMINAL


async def test_shutdown_interrupts_the_reply_and_takes_no_more_turns(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text=LONG, chunk_delay=0.03))
    await stage.say("Narrator, talk.")
    await wait_for_messages(stage, 1)
    await stage.runtime.shutdown()
    (reply,) = await replies(stage)
    assert reply.status is ReplyStatus.INTERRUPTED
    messages = stage.port.reply_messages()
    assert messages[-1].look == Look.INTERRUPTED.value
    assert "shutting down" in messages[-1].content
    assert all(m.look in TERMINAL for m in messages)
    await stage.say("Narrator, are you there?")
    await asyncio.sleep(0.2)
    assert len(await replies(stage)) == 1


async def test_a_player_writing_too_fast_is_answered_once_they_pause(make_stage) -> None:
    stage = await make_stage(user_cooldown_seconds=0.3)
    await stage.enable()
    stage.model.script(Reply(text="First answer."), Reply(text="Second answer."))
    await stage.say("Narrator, one.")
    await stage.say("Narrator, two!")
    await stage.quiet()
    assert any("writing faster" in text for _, text in stage.port.notices)
    lines = await stage.memory()
    newest_human = max(r.id for r in lines if r.kind is AuthorKind.HUMAN)
    assert any(r.kind is AuthorKind.PERSONA and r.id > newest_human for r in lines) or any(
        r.kind is AuthorKind.PERSONA and r.reply_to == newest_human for r in lines
    ), "the second line is answered, never dropped"


async def test_an_empty_completion_fails_visibly_and_stays_out_of_the_prompt(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text="", chunks=("",)), Reply(text="Now I speak."))
    await stage.say("Narrator, hello?")
    await stage.quiet()
    (failed,) = stage.port.reply_messages()
    assert failed.look == Look.FAILED.value and "No reply came" in failed.content
    (record,) = await replies(stage)
    assert record.status is ReplyStatus.FAILED
    await stage.say("Narrator, again?")
    await stage.quiet()
    second = stage.model.requests[-1].messages
    assert all(m.get("name") != "The Narrator" or m["content"] for m in second)
    assert [m["role"] for m in second].count("assistant") == 0


async def test_retry_rewrites_a_failed_reply_in_place(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text="", chunks=("",)), Reply(text="Better late."))
    await stage.say("Narrator, hello?")
    await stage.quiet()
    (failed,) = await replies(stage)
    outcome = await stage.runtime.regenerate(CHANNEL, failed.id)
    assert outcome.complete
    (record,) = await replies(stage)
    assert (record.id, record.text, record.status) == (
        failed.id,
        "Better late.",
        ReplyStatus.COMPLETE,
    )
    assert record.swipe_count == 1  # a failure is no alternative worth keeping


async def test_deleting_one_part_of_a_finished_reply_forgets_only_that_part(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text=LONG))
    await stage.say("Narrator, talk.")
    await stage.quiet()
    (reply,) = await replies(stage)
    assert len(reply.discord_ids) > 2
    middle = reply.discord_ids[1]
    stage.port.delete(middle)
    await stage.runtime.message_deleted(CHANNEL, middle)
    (kept,) = await replies(stage)
    assert kept.discord_ids == tuple(i for i in reply.discord_ids if i != middle)
    assert kept.text and len(kept.text) < len(reply.text)
    assert stage.port.messages[middle].content.split(" ")[0] not in kept.text.split()


async def test_after_a_crash_the_reply_is_settled_and_the_line_answered_again(make_stage) -> None:
    crashed = await make_stage()
    await crashed.enable()
    line = await crashed.runtime.memory.remember(
        NewMessage(CHANNEL, GUILD, 4_000, 333, "Alice", "Narrator, tell me.")
    )
    reply_id = await crashed.store.begin_reply(CHANNEL, GUILD, "narrator", "The Narrator", line.id)
    # Memory saved the message when it was posted; later edits showed more than that.
    shown = Message(9_000, CHANNEL, "narrator", looks=[(STREAMING, "Once upon a ▌")])
    await crashed.store.save_progress(reply_id, "Once", [shown.id])
    # The process died here: no shutdown. A new one starts on the same database.
    restarted = await make_stage()
    restarted.port.messages[shown.id] = shown
    restarted.model.script(Reply(text="Once upon a time, again."))
    await restarted.runtime.recover()
    await restarted.quiet()
    assert (Look.INTERRUPTED.value, "Once upon a\n-# " + RESTART_NOTE) in shown.looks
    assert shown.look in TERMINAL
    records = {r.id: r for r in await restarted.memory()}
    assert records[reply_id].status is ReplyStatus.INTERRUPTED
    assert records[reply_id].text == "Once upon a"  # what players saw, read back
    newest = max(records.values(), key=lambda r: r.id)
    assert newest.kind is AuthorKind.PERSONA and newest.text == "Once upon a time, again."
    assert await restarted.store.unfinished_replies() == []


async def test_lines_posted_while_away_are_read_back_and_answered(make_stage) -> None:
    before = await make_stage()
    await before.enable()
    before.model.script(Reply(text="Welcome."))
    await before.say("Narrator, hello.")
    await before.quiet()
    await before.runtime.shutdown()
    after = await make_stage()
    newest = max(m.discord_id for m in [before.line("x")])
    missed = [after.line("Bob wanders in."), after.line("Narrator, who is that?")]
    after.port.missed[CHANNEL] = missed
    after.model.script(Reply(text="A stranger, dripping wet."))
    await after.runtime.recover()
    await after.quiet()
    texts = [r.text for r in await after.memory()]
    assert texts[-3:] == ["Bob wanders in.", "Narrator, who is that?", "A stranger, dripping wet."]
    assert newest  # ids kept growing across the restart
    assert len([t for t in texts if t == "A stranger, dripping wet."]) == 1


async def test_a_started_scene_readies_its_cast_and_a_stopped_one_nothing(stage: Stage) -> None:
    await stage.enable(cast=("narrator", "marta"))
    await asyncio.sleep(0.05)  # readying runs in the background: the command answers at once
    assert stage.port.readied == [(CHANNEL, ("narrator", "marta"))]
    config = await stage.runtime.memory.channel(CHANNEL)
    assert config is not None
    await stage.runtime.configure(dataclasses.replace(config, enabled=False))
    await asyncio.sleep(0.05)
    assert stage.port.readied == [(CHANNEL, ("narrator", "marta"))]
