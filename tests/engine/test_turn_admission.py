"""A burst of turns in many channels: eight are prepared at once, the others wait in order."""

import asyncio

from bot.engine.turns import PREPARED_AT_ONCE, TurnBuilder
from bot.llm.dialect import DialectPolicy
from bot.memory import ChannelConfig
from bot.models import AuthorKind, Persona, ReplyStatus
from tests.fakes.model_server import Reply


class BlockedMemory:
    """Stands in for the scene memory: every window read waits until the test lets it fail."""

    def __init__(self) -> None:
        self.reading: list[int] = []
        self.release = asyncio.Event()

    async def window(self, channel_id: int) -> None:
        self.reading.append(channel_id)
        await self.release.wait()
        raise LookupError(f"channel {channel_id} let go")


async def test_a_burst_prepares_eight_turns_at_once_and_the_rest_in_arrival_order():
    memory = BlockedMemory()
    builder = TurnBuilder(memory, DialectPolicy("auto", key="test"))  # type: ignore[arg-type]
    persona = Persona(id="narrator", name="Narrator", description="Tells the story.")
    turns = [
        asyncio.create_task(builder.prepare(ChannelConfig(channel_id=n, guild_id=1), [], persona))
        for n in range(PREPARED_AT_ONCE + 3)
    ]
    await asyncio.sleep(0.05)

    assert PREPARED_AT_ONCE == 8
    assert memory.reading == list(range(8))

    memory.release.set()
    outcomes = await asyncio.gather(*turns, return_exceptions=True)

    # A failed preparation lets the next one in: all of them ran, first come first served.
    assert memory.reading == list(range(11))
    assert all(isinstance(outcome, LookupError) for outcome in outcomes)


async def test_the_smallest_window_with_the_longest_reply_still_answers(make_stage):
    # CONTEXT_TOKENS=4096 with 2,048-token replies: a fixed 2,048-token margin left the prompt
    # no room at all, and every turn failed before reaching the model.
    stage = await make_stage(context_tokens=4096)
    await stage.enable(generation={"max_tokens": 2048})  # what /scene tuning max_tokens sets
    stage.model.script(Reply(text="Still here."))
    await stage.say("Narrator, are you there?")
    await stage.quiet()

    (request,) = stage.model.requests
    assert request.body["max_tokens"] == 2048
    replies = [r for r in await stage.memory() if r.kind is AuthorKind.PERSONA]
    assert [(r.text, r.status) for r in replies] == [("Still here.", ReplyStatus.COMPLETE)]
