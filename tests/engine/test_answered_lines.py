"""Which player line still waits for an answer: a reply answers the lines its prompt held.

A line stored while a reply was being prepared has a smaller memory id than the reply (the
reply's row is created once the model is asked), yet the model never saw it: it must still
be answered, before and after a restart.
"""

from __future__ import annotations

from bot.memory import NewMessage
from bot.models import AuthorKind, ReplyStatus
from tests.engine.conftest import CHANNEL, GUILD, Stage


def line(discord_id: int, text: str, *, ooc: bool = False) -> NewMessage:
    return NewMessage(
        channel_id=CHANNEL,
        guild_id=GUILD,
        discord_id=discord_id,
        author_id=333,
        author_name="Alice",
        kind=AuthorKind.HUMAN,
        text=text,
        ooc=ooc,
    )


async def reply(stage: Stage, reply_to: int | None, status=ReplyStatus.COMPLETE) -> int:
    memory = stage.runtime.memory
    narrator = await memory.personas.get(GUILD, "narrator")
    assert narrator is not None
    reply_id = await memory.begin_reply(CHANNEL, GUILD, narrator, reply_to)
    await memory.finish_reply(reply_id, "An answer.", status, [90_000 + reply_id])
    return reply_id


async def test_a_line_stored_while_the_reply_was_prepared_still_waits(make_stage) -> None:
    stage = await make_stage()
    await stage.enable()
    memory = stage.runtime.memory
    first = await memory.remember(line(1, "Narrator, first thing."))
    second = await memory.remember(line(2, "Narrator, and a second thing!"))
    await reply(stage, reply_to=first.id)  # its prompt ended with the first line

    assert await memory.unanswered(CHANNEL) == second.id
    memory.channel_changed(CHANNEL)  # read again from the store, as after a restart
    assert await memory.unanswered(CHANNEL) == second.id
    restarted = await make_stage()
    assert await restarted.runtime.memory.unanswered(CHANNEL) == second.id


async def test_a_reply_that_saw_the_newest_line_answers_it(stage: Stage) -> None:
    await stage.enable()
    memory = stage.runtime.memory
    await memory.remember(line(1, "Narrator, first thing."))
    second = await memory.remember(line(2, "Narrator, and a second thing!"))
    await reply(stage, reply_to=second.id)
    assert await memory.unanswered(CHANNEL) is None


async def test_a_later_reply_that_saw_the_line_answers_it(stage: Stage) -> None:
    await stage.enable()
    memory = stage.runtime.memory
    first = await memory.remember(line(1, "Narrator, first thing."))
    second = await memory.remember(line(2, "Narrator, and a second thing!"))
    await reply(stage, reply_to=first.id)
    await reply(stage, reply_to=second.id)
    assert await memory.unanswered(CHANNEL) is None


async def test_an_interrupted_reply_answers_nobody_and_a_greeting_everyone_before_it(
    stage: Stage,
) -> None:
    await stage.enable()
    memory = stage.runtime.memory
    first = await memory.remember(line(1, "Narrator, first thing."))
    await reply(stage, reply_to=first.id, status=ReplyStatus.INTERRUPTED)
    assert await memory.unanswered(CHANNEL) == first.id
    await reply(stage, reply_to=None)  # a greeting: it answers what came before
    assert await memory.unanswered(CHANNEL) is None
    ooc = await memory.remember(line(3, "(( brb ))", ooc=True))
    assert ooc.id and await memory.unanswered(CHANNEL) is None
