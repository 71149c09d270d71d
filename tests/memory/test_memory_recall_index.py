"""The recall index always agrees with the stored lines, whatever wrote them and in what order."""

import random
import sqlite3

import pytest

from bot.memory import Store, open_store
from bot.memory.sqlite import INDEX_BATCH
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD, FakeClock, human

TOKENS = [f"tok{n}" for n in range(40)]
FINISHED = (ReplyStatus.COMPLETE, ReplyStatus.INTERRUPTED)


async def assert_index_agrees(store: Store) -> None:
    """Each token finds exactly the finished lines showing it, out-of-character ones too."""
    lines = await store.window(CHANNEL, limit=10_000)
    for token in TOKENS:
        expected = {m.id for m in lines if m.status in FINISHED and token in m.text.split()}
        hits = await store.recall(CHANNEL, token, include_ooc=True, limit=1000)
        assert {hit.id for hit in hits} == expected, token


async def play(store: Store, rng: random.Random, steps: int, discord_id: int = 1000) -> None:
    """Random writes of every kind the store has, with a recall now and then."""
    replies: list[int] = []

    def text() -> str:
        return " ".join(rng.sample(TOKENS, rng.randint(1, 3)))

    for _ in range(steps):
        discord_id += 1
        lines = await store.window(CHANNEL, limit=10_000)
        shown = [m for m in lines if m.discord_id is not None]
        op = rng.choices(
            ["say", "reply", "finish", "swipe", "select", "edit", "delete", "rewind", "recall"],
            [30, 8, 10, 6, 6, 8, 5, 1, 4],
        )[0]
        if op == "say":
            await store.add_message(human(discord_id, text(), ooc=rng.random() < 0.2))
        elif op == "reply":
            reply = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
            await store.save_progress(reply, text())
            replies.append(reply)
        elif op == "finish" and replies:
            reply = await store.get_message(rng.choice(replies))
            assert reply is not None
            final = reply.text if rng.random() < 0.5 else text()  # usually what was streamed
            status = rng.choice([*FINISHED, ReplyStatus.FAILED])
            await store.finish_reply(reply.id, final, status, [discord_id])
        elif op == "swipe" and replies:
            streaming = rng.random() < 0.5
            status = ReplyStatus.STREAMING if streaming else rng.choice(FINISHED)
            await store.add_alternative(rng.choice(replies), text(), status)
        elif op == "select" and replies:
            reply = await store.get_message(rng.choice(replies))
            if reply is not None:
                await store.select_alternative(reply.id, rng.randrange(reply.swipe_count))
        elif op == "edit" and shown:
            await store.edit_message(rng.choice(shown).discord_ids[-1], text())
        elif op == "delete" and shown:
            await store.delete_message(rng.choice(shown).discord_id or 0)
        elif op == "rewind" and len(shown) > 5:
            await store.rewind(CHANNEL, shown[-5].discord_id or 0)
        elif op == "recall":
            await store.recall(CHANNEL, rng.choice(TOKENS))
        replies = [r for r in replies if await store.get_message(r) is not None]


@pytest.mark.parametrize("seed", [1, 2])
async def test_index_follows_every_write(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    await play(store, rng, 150)
    await assert_index_agrees(store)
    await play(store, rng, 150, discord_id=100_000)  # over lines indexed before, too
    await assert_index_agrees(store)


async def test_erasing_keeps_the_index_in_step(store: Store) -> None:
    await play(store, random.Random(3), 120)
    await store.forget_user(7)
    await assert_index_agrees(store)
    await store.wipe_channel(CHANNEL)
    await assert_index_agrees(store)
    assert await store.integrity_check() == []


@pytest.mark.sqlite_only
async def test_new_lines_are_indexed_in_batches(target: str, clock: FakeClock) -> None:
    def indexed_until() -> int:
        with sqlite3.connect(target) as raw:
            return raw.execute("SELECT indexed_until FROM recall_index_state").fetchone()[0]

    async with open_store(target, clock=clock) as store:
        for n in range(INDEX_BATCH - 1):
            await store.add_message(human(1000 + n, f"line {n}"))
        assert indexed_until() == 0
        last = await store.add_message(human(5000, "the last of the batch"))
        assert indexed_until() == last.id
        more = await store.add_message(human(5001, "waits for the next batch"))
        assert indexed_until() == last.id
        assert [hit.id for hit in await store.recall(CHANNEL, "waits")] == [more.id]
        assert indexed_until() == more.id
        # A turn's recall searches only below its window: lines newer than that wait for
        # their batch instead of taking the connection alone to be indexed now.
        newest = await store.add_message(human(5002, "waits beyond the window"))
        hits = await store.recall(CHANNEL, "waits", before_id=newest.id)
        assert [hit.id for hit in hits] == [more.id]
        assert indexed_until() == more.id
        newer = await store.add_message(human(5003, "waits again"))
        hits = await store.recall(CHANNEL, "waits", before_id=newer.id + 1)
        assert {hit.id for hit in hits} == {more.id, newest.id, newer.id}
        assert indexed_until() == newer.id


@pytest.mark.sqlite_only
async def test_integrity_check_notices_an_index_out_of_step(target: str, clock: FakeClock) -> None:
    async with open_store(target, clock=clock) as store:
        await store.add_message(human(1001, "hello world"))
        assert await store.recall(CHANNEL, "hello")
        assert await store.integrity_check() == []
    with sqlite3.connect(target) as raw:
        raw.execute(
            "INSERT INTO recall_index (recall_index, rowid, text) "
            "VALUES ('delete', 1, 'hello world')"
        )
    raw.close()

    async with open_store(target, clock=clock) as store:
        assert await store.integrity_check() == ["recall index holds 0 lines instead of 1"]
