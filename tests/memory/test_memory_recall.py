"""Long-term recall: what a scene's full-text index finds, and what it must no longer find."""

from collections.abc import Awaitable, Callable

import pytest

from bot.memory import RecallHit, Store
from bot.memory import recall as recall_module
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, human

FACT = "Aria names her sword Glimmerfang, forged by the smith Sérà."
FILLER = [
    "The storm rolls over the harbour as the bard tunes his lute.",
    "Bram orders another ale and grumbles about the weather.",
    "Somewhere a dog barks; the tavern door creaks open and shut.",
]


def found(hits: list[RecallHit]) -> list[tuple[str, int]]:
    return [(hit.kind, hit.id) for hit in hits]


async def fill(store: Store, count: int, first_discord_id: int = 10_000) -> None:
    for n in range(count):
        await store.add_message(
            human(first_discord_id + n, FILLER[n % len(FILLER)], author_id=8, author_name="Bram")
        )


@pytest.mark.slow
async def test_a_fact_planted_5000_lines_back_is_recalled(store: Store) -> None:
    planted = await store.add_message(human(1001, FACT))
    await fill(store, 5000)
    window = await store.window(CHANNEL, limit=200)

    hits = await store.recall(
        CHANNEL, ["Where", "is", "Glimmerfang?"], before_id=window[0].id, limit=3
    )

    assert hits[0] == RecallHit(
        planted.id, "message", "Aria", FACT, planted.created_at, hits[0].score
    )
    assert hits[0].score > 0
    assert await store.recall(CHANNEL, "glimmerfang", before_id=planted.id) == []
    assert await store.recall(OTHER_CHANNEL, "glimmerfang") == []

    assert await store.delete_message(1001)
    assert await store.recall(CHANNEL, "Glimmerfang") == []


Erase = Callable[[Store], Awaitable[object]]

ERASES: dict[str, Erase] = {
    "delete_message": lambda store: store.delete_message(1001),
    "edit": lambda store: store.edit_message(1001, "Aria names her sword."),
    "rewind": lambda store: store.rewind(CHANNEL, 1000),
    "wipe_channel": lambda store: store.wipe_channel(CHANNEL),
    "forget_user": lambda store: store.forget_user(7),
}


@pytest.mark.parametrize("indexed_first", [True, False], ids=["indexed", "fresh"])
@pytest.mark.parametrize("erase", list(ERASES))
async def test_erased_text_is_never_recalled(store: Store, erase: str, indexed_first: bool) -> None:
    await store.add_message(human(1000, "The journey begins.", author_id=8, author_name="Bram"))
    planted = await store.add_message(human(1001, FACT))
    await fill(store, 300)  # more than one indexing batch
    if indexed_first:
        assert found(await store.recall(CHANNEL, "glimmerfang")) == [("message", planted.id)]

    await ERASES[erase](store)

    assert await store.recall(CHANNEL, "glimmerfang") == []
    assert await store.recall(CHANNEL, "Sérà smith", include_ooc=True) == []
    if erase == "edit":
        [hit] = await store.recall(CHANNEL, "sword")
        assert (hit.id, hit.text) == (planted.id, "Aria names her sword.")


async def test_only_finished_lines_of_the_channel_in_range_are_searched(store: Store) -> None:
    before = await store.add_message(human(1001, "the lantern of Vhal"))
    ooc = await store.add_message(human(1002, "(lantern joke, brb)", ooc=True))
    await store.add_message(human(1003, "a lantern elsewhere", channel_id=OTHER_CHANNEL))
    streaming = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.save_progress(streaming, "The lantern flickers")
    failed = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(failed, "lantern lantern", ReplyStatus.FAILED)
    cut = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(cut, "The lantern goes", ReplyStatus.INTERRUPTED, [2001])
    after = await store.add_message(human(1004, "I light the lantern"))

    every = found(await store.recall(CHANNEL, "lantern", limit=10))
    assert sorted(every) == [("message", before.id), ("message", cut), ("message", after.id)]
    with_ooc = await store.recall(CHANNEL, "lantern", include_ooc=True, limit=10)
    assert ("message", ooc.id) in found(with_ooc)
    assert len(with_ooc) == 4
    window = found(await store.recall(CHANNEL, "lantern", before_id=after.id, after_id=before.id))
    assert window == [("message", cut)]
    assert len(await store.recall(CHANNEL, "lantern", limit=1)) == 1
    assert await store.recall(CHANNEL, "lantern", limit=0) == []

    await store.finish_reply(streaming, "The lantern flickers out.", ReplyStatus.COMPLETE)
    assert ("message", streaming) in found(await store.recall(CHANNEL, "lantern", limit=10))


async def test_the_alternative_on_show_is_what_is_recalled(store: Store) -> None:
    reply = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply, "A griffin lands.", ReplyStatus.COMPLETE, [2001])
    await fill(store, 300)
    assert found(await store.recall(CHANNEL, "griffin")) == [("message", reply)]

    await store.add_alternative(reply)  # regenerating: nothing of it is recalled meanwhile
    assert await store.recall(CHANNEL, "griffin") == []
    await store.save_progress(reply, "A wyvern")
    assert await store.recall(CHANNEL, "wyvern") == []
    await store.finish_reply(reply, "A wyvern lands.", ReplyStatus.COMPLETE)
    assert found(await store.recall(CHANNEL, "wyvern")) == [("message", reply)]
    assert await store.recall(CHANNEL, "griffin") == []

    await store.select_alternative(reply, 0)
    assert found(await store.recall(CHANNEL, "griffin")) == [("message", reply)]
    assert await store.recall(CHANNEL, "wyvern") == []
    await store.add_alternative(reply, "A manticore lands.", ReplyStatus.FAILED)
    assert await store.recall(CHANNEL, "griffin manticore") == []
    await store.edit_message(2001, "A basilisk lands.")  # the reply's Discord message
    await store.select_alternative(reply, 1)
    assert found(await store.recall(CHANNEL, "wyvern")) == [("message", reply)]
    await store.select_alternative(reply, 2)
    assert await store.recall(CHANNEL, "wyvern basilisk griffin") == []


async def test_older_summary_versions_are_recalled_once(store: Store) -> None:
    first = await store.add_message(human(1001, "We set out."))
    await fill(store, 5)
    latest = await store.latest_id(CHANNEL)
    assert latest is not None
    old = await store.save_summary(CHANNEL, None, "They left Vhal with the lantern.", first.id)
    older_too = await store.save_summary(CHANNEL, None, "Vhal, the lantern, the road.", first.id)
    current = await store.save_summary(CHANNEL, None, "On the road to Vhal.", latest)
    await store.save_summary(CHANNEL, "bard", "The bard saw Vhal burn.", latest)
    await store.save_summary(OTHER_CHANNEL, None, "Vhal elsewhere.", 1)

    [hit] = await store.recall(CHANNEL, "Vhal lantern")
    assert (hit.kind, hit.author_name, hit.created_at) == ("summary", None, old.created_at)
    assert hit.id in (old.id, older_too.id)
    assert hit.text in (old.text, older_too.text)
    assert current.id not in [h.id for h in await store.recall(CHANNEL, "road")]
    assert await store.recall(CHANNEL, "Vhal", before_id=first.id) == []
    # A late joiner's own summary versions; its current one is already in its prompt.
    assert await store.recall(CHANNEL, "burn", persona_id="bard") == []
    await store.save_summary(CHANNEL, "bard", "The bard sang.", latest)
    assert found(await store.recall(CHANNEL, "burn", persona_id="bard"))[0][0] == "summary"
    assert await store.recall(CHANNEL, "burn") == []

    await store.rollback_summary(CHANNEL)  # `older_too` is current again
    assert found(await store.recall(CHANNEL, "Vhal lantern")) == [("summary", old.id)]
    await store.forget_user(7)  # the summaries covered Aria's first line
    assert await store.recall(CHANNEL, "Vhal lantern burn") == []


async def test_rarer_words_and_more_of_them_rank_higher(store: Store) -> None:
    for n in range(40):
        await store.add_message(human(1000 + n, f"The harbour is busy today, day {n}."))
    rare = await store.add_message(human(2000, "A ship named Kestrel docks at dawn."))
    both = await store.add_message(human(2001, "The Kestrel leaves the harbour."))
    await fill(store, 10)

    hits = await store.recall(CHANNEL, "harbour kestrel", limit=3)

    assert {hit.id for hit in hits[:2]} == {rare.id, both.id}
    assert hits[0].id == both.id
    assert hits[0].score > hits[1].score > hits[2].score > 0


async def test_too_common_words_are_left_out(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(recall_module, "RECALL_ROWS", 10)
    for n in range(12):
        await store.add_message(human(1000 + n, f"The harbour, again ({n})."))
    rare = await store.add_message(human(2000, "The harbour where Kestrel docks."))

    assert await store.recall(CHANNEL, "harbour") == []
    assert found(await store.recall(CHANNEL, "harbour kestrel")) == [("message", rare.id)]


HOSTILE = [
    '"', '""', "'", "*", "-", ":", "^", "()", "{text}:", "NEAR(", "AND", "OR NOT", "a:b",
    "'; DROP TABLE messages; --", "\\", "%", "_", "&|!<->", "\x00", "🗡️", "🗡️🛡️🐉",
    "   ", "", "\u0301", "x" * 10_000, "word " * 2_000,
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_queries_are_plain_words(store: Store, query: str) -> None:
    await store.add_message(human(1001, "NEAR the altar, AND or NOT: a word, a:b."))
    await store.add_message(human(1002, "DROP TABLE messages"))

    hits = await store.recall(CHANNEL, query)
    also = await store.recall(CHANNEL, [query, query])

    assert also == hits
    assert all(hit.text.startswith(("NEAR", "DROP")) for hit in hits)
    assert await store.count_messages(CHANNEL) == 2


async def test_search_syntax_is_matched_literally(store: Store) -> None:
    sword = await store.add_message(human(1001, "Her sword gleams."))
    await store.add_message(human(1002, "A swordfish leaps."))
    near = await store.add_message(human(1003, "NEAR the altar."))
    await store.add_message(human(1004, "A shield."))

    assert found(await store.recall(CHANNEL, '"sword*')) == [("message", sword.id)]
    assert found(await store.recall(CHANNEL, "-sword")) == [("message", sword.id)]
    assert found(await store.recall(CHANNEL, "NEAR(the, altar)")) == [("message", near.id)]
    assert found(await store.recall(CHANNEL, "text:sword")) == []  # the phrase "text sword"
    assert len(await store.recall(CHANNEL, "sword NOT shield")) == 2


async def test_case_accents_and_scripts(store: Store) -> None:
    sera = await store.add_message(human(1001, "Sérà and ØYVIND meet Иван."))
    cjk = await store.add_message(human(1002, "剣の名前、グリマー。"))

    for query in ("sera", "SÉRÀ", "Sera", "øyvind", "иван", "ИВАН"):
        assert found(await store.recall(CHANNEL, query)) == [("message", sera.id)], query
    assert await store.recall(CHANNEL, "oyvind") == []  # ø is a letter of its own
    # Chinese and Japanese: each run between spaces or punctuation is one word.
    assert found(await store.recall(CHANNEL, "グリマー")) == [("message", cjk.id)]
    assert found(await store.recall(CHANNEL, "剣の名前")) == [("message", cjk.id)]
    assert await store.recall(CHANNEL, "剣") == []


async def test_lines_not_yet_indexed_survive_a_restart(store: Store, reopen) -> None:
    await fill(store, 3)
    planted = await store.add_message(human(1001, FACT))
    await store.close()

    async with reopen() as again:
        assert found(await again.recall(CHANNEL, "glimmerfang")) == [("message", planted.id)]
