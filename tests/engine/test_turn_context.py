"""What a turn adds after the history — lore, recalled memories, dice — and content ratings,
through the runtime with a recording port and the fake model.
"""

from __future__ import annotations

from bot.lore import Lorebook, LoreEntry
from bot.memory import NewMessage
from bot.models import AuthorKind
from bot.ratings import ADULT_RATING, GENERAL_RATING
from tests.engine.conftest import ALICE, CHANNEL, GUILD, Stage
from tests.fakes.model_server import Reply

SWORD = "Glimmerbane"


def last_request(stage: Stage) -> list[dict]:
    """The newest persona turn's request (summary requests of folding left out)."""
    turns = [
        r.messages
        for r in stage.model.requests
        if "running summary" not in str(r.messages[0].get("content"))
    ]
    return turns[-1]


def scene_notes(messages: list[dict]) -> str:
    last = messages[-1]
    return last["content"] if last.get("name") == "Scene notes" else ""


async def test_lore_fires_on_its_key_after_the_history(stage: Stage) -> None:
    await stage.enable()
    book = Lorebook(
        (
            LoreEntry(0, ("Rusty Anchor",), "The Rusty Anchor has a trapdoor to the docks."),
            LoreEntry(1, ("dragon",), "Dragons are extinct."),
        )
    )
    await stage.runtime.save_lorebook("scene", CHANNEL, book)
    await stage.runtime.save_lorebook(
        "server", GUILD, Lorebook((LoreEntry(0, (), "Magic is rare here.", constant=True),))
    )
    stage.model.script(Reply(text="Aye."))
    await stage.say("Narrator, tell me about the rusty anchor.")
    await stage.quiet()
    notes = scene_notes(last_request(stage))
    assert "trapdoor" in notes and "Magic is rare" in notes and "extinct" not in notes
    turn = await stage.runtime.preview(CHANNEL, "narrator")
    assert turn is not None
    fired = {(hit.scope, hit.entry.uid): hit.reason for hit in turn.context.lore.fired}
    assert fired[("scene", 0)] == "key “Rusty Anchor”" and fired[("server", 0)] == "constant"


async def test_a_fact_5000_lines_back_is_recalled_until_it_is_forgotten(stage: Stage) -> None:
    await stage.enable()
    memory = stage.runtime.memory
    planted = await memory.remember(
        NewMessage(
            CHANNEL, GUILD, 800_001, ALICE, "Alice", f"My sword is named {SWORD}, forged in ice."
        )
    )
    for n in range(5000):
        await memory.remember(
            NewMessage(CHANNEL, GUILD, 900_000 + n, ALICE, "Alice", f"We walk on, step {n}.")
        )
    stage.model.script(Reply(text="I remember."), Reply(text="Hm?"), Reply(text="Hm?"))
    await stage.say(f"Narrator, do you remember {SWORD}?")
    await stage.quiet()
    assert "forged in ice" in scene_notes(last_request(stage))
    turn = await stage.runtime.preview(CHANNEL, "narrator")
    assert turn is not None and [hit.id for hit in turn.context.recalled] == [planted.id]

    await stage.runtime.message_deleted(CHANNEL, planted.discord_id or 0)
    await stage.say(f"Narrator, and {SWORD}, once more?")
    await stage.quiet()
    assert "forged in ice" not in str(last_request(stage))


async def test_a_rewound_fact_is_never_recalled(stage: Stage) -> None:
    await stage.enable()
    memory = stage.runtime.memory
    await memory.remember(NewMessage(CHANNEL, GUILD, 800_001, ALICE, "Alice", "The first step."))
    await memory.remember(NewMessage(CHANNEL, GUILD, 800_002, ALICE, "Alice", f"Behold {SWORD}!"))
    for n in range(300):
        await memory.remember(NewMessage(CHANNEL, GUILD, 900_000 + n, ALICE, "Alice", f"Step {n}."))
    await stage.runtime.rewind(CHANNEL, 800_001)
    assert await stage.runtime.recall(CHANNEL, SWORD) == []
    stage.model.script(Reply(text="Hm?"))
    await stage.say(f"Narrator, what was {SWORD}?")
    await stage.quiet()
    assert "Behold" not in str(last_request(stage))


async def test_recall_asks_nothing_when_the_recent_lines_already_say_it(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text="Aye."))
    await stage.say(f"I carry {SWORD}.")
    await stage.say(f"Narrator, look at {SWORD}.")
    await stage.quiet()
    turn = await stage.runtime.preview(CHANNEL, "narrator")
    assert turn is not None and SWORD not in turn.context.recall_terms


async def test_inline_dice_are_rolled_shown_and_remembered(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text="You slip past."))
    await stage.say("Narrator, I sneak past the guard [[1d20+4]].")
    await stage.quiet()
    line = next(r for r in await stage.memory() if r.kind is AuthorKind.HUMAN)
    assert "[1d20+4 = " in line.text and "[[" not in line.text
    assert any("1d20 (" in text for _, text in stage.port.notices)
    assert "[1d20+4 = " in str(last_request(stage))


async def test_a_bad_inline_roll_is_explained_and_the_line_kept(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text="Hm."))
    await stage.say("Narrator, I cast [[fireball]].")
    await stage.quiet()
    assert any("can't read" in text for _, text in stage.port.notices)
    line = next(r for r in await stage.memory() if r.kind is AuthorKind.HUMAN)
    assert line.text == "Narrator, I cast [[fireball]]."


async def test_the_rules_state_the_channels_rating(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text="Aye."), Reply(text="Aye."))
    await stage.say("Narrator?")
    await stage.quiet()
    assert GENERAL_RATING in last_request(stage)[0]["content"]
    stage.port.age_restricted.add(CHANNEL)
    await stage.say("Narrator, again?")
    await stage.quiet()
    assert ADULT_RATING in last_request(stage)[0]["content"]


async def test_an_adult_persona_pauses_the_scene_outside_age_restricted_channels(
    stage: Stage,
) -> None:
    await stage.enable()
    await stage.runtime.set_persona_adult(GUILD, "narrator", True)
    await stage.say("Narrator?")
    await stage.say("Narrator, hello?")
    await stage.quiet()
    assert stage.model.requests == []
    paused = [text for _, text in stage.port.notices if "paused" in text]
    assert len(paused) == 1 and "Age-Restricted Channel" in paused[0]

    stage.port.age_restricted.add(CHANNEL)
    await stage.runtime.rating_changed(CHANNEL)
    assert "goes on" in stage.port.notices[-1][1]
    stage.model.script(Reply(text="At last."))
    await stage.say("Narrator, now?")
    await stage.quiet()
    assert len(stage.model.requests) == 1

    stage.port.age_restricted.discard(CHANNEL)
    await stage.runtime.rating_changed(CHANNEL)
    assert "paused" in stage.port.notices[-1][1]
