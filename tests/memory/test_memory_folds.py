"""Folded summaries are saved only while everything they were written from is still stored.

A fold runs for seconds (the model writes the summary), so the player whose lines it folds
may be forgotten, or the scene wiped or rewound, meanwhile, possibly by another process.
`save_fold` then saves nothing, so no summary brings erased lines back.
"""

import asyncio

import asyncpg
import pytest

from bot.memory import MessageRecord, Store, Summary, open_store
from bot.memory.postgres.backend import LOCK_AGAINST_ERASE, LOCK_FOR_ERASE

from .helpers import CHANNEL, human

ARIA, BRAM = 7, 8


async def scene(store: Store) -> list[MessageRecord]:
    """Six lines in CHANNEL: Aria and Bram, alternating (Aria's are the even ones)."""
    return [
        await store.add_message(human(100 + n, f"line {n}", author_id=(ARIA, BRAM)[n % 2]))
        for n in range(6)
    ]


async def fold(store: Store, lines: list[MessageRecord], previous_id: int | None) -> Summary | None:
    return await store.save_fold(
        CHANNEL,
        None,
        "They talked.",
        lines[-1].id,
        previous_id=previous_id,
        folded=[line.id for line in lines],
    )


async def test_a_fold_is_saved_while_its_lines_and_summary_are_current(store: Store) -> None:
    lines = await scene(store)
    first = await fold(store, lines[:2], None)
    assert first is not None
    current = await store.get_summary(CHANNEL)
    assert current == first and current.version == 1 and current.author_id is None

    second = await store.save_fold(
        CHANNEL, "vex", "Vex saw it.", lines[3].id, previous_id=None, folded=[lines[3].id]
    )
    third = await fold(store, lines[2:4], current.id)

    assert second is not None and second.persona_id == "vex"
    assert third is not None and third.version == 2
    assert (await store.get_summary(CHANNEL)) == third


async def test_a_fold_of_a_forgotten_players_lines_is_not_saved(store: Store) -> None:
    lines = await scene(store)
    await store.forget_user(ARIA)

    assert await fold(store, lines[:4], None) is None
    assert await store.summary_history(CHANNEL) == []
    bram_only = [line for line in lines if line.author_id == BRAM]
    assert await fold(store, bram_only, None) is not None


async def test_a_fold_continuing_an_erased_summary_is_not_saved(store: Store) -> None:
    lines = await scene(store)
    written_from_aria = await fold(store, lines[:1], None)
    assert written_from_aria is not None
    await store.forget_user(ARIA)  # erases the summary covering her first line

    # Bram's later lines are all still stored, but the summary it continues is gone.
    assert await fold(store, [lines[3], lines[5]], written_from_aria.id) is None
    assert await store.summary_history(CHANNEL) == []


async def test_a_fold_over_a_newer_version_is_not_saved(store: Store) -> None:
    lines = await scene(store)
    first = await fold(store, lines[:2], None)
    assert first is not None
    await store.save_summary(CHANNEL, None, "A game master's edit.", lines[1].id, author_id=99)

    assert await fold(store, lines[2:4], first.id) is None
    assert await fold(store, lines[2:4], None) is None  # there is one now
    assert [s.text for s in await store.summary_history(CHANNEL)] == [
        "A game master's edit.",
        "They talked.",
    ]


async def test_a_fold_of_rewound_or_wiped_lines_is_not_saved(store: Store) -> None:
    lines = await scene(store)
    await store.rewind(CHANNEL, 103)  # keeps lines 0..3
    assert await fold(store, lines[3:5], None) is None
    assert await fold(store, lines[2:4], None) is not None

    await store.wipe_channel(CHANNEL)
    assert await fold(store, lines[:1], None) is None


# Across processes (PostgreSQL): a fold and an erase never interleave.


async def until_waiting(url: str) -> None:
    monitor = await asyncpg.connect(url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not await monitor.fetchval(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            assert loop.time() < deadline, "nobody waited for the erase lock"
            await asyncio.sleep(0.02)
    finally:
        await monitor.close()


@pytest.mark.postgres
async def test_a_fold_saved_while_a_forget_runs_sees_the_forget(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        lines = await scene(store)
        # Another process's forget, caught between its erase and its commit.
        erasing = await asyncpg.connect(pg_url)
        try:
            transaction = erasing.transaction()
            await transaction.start()
            await erasing.execute(LOCK_FOR_ERASE)
            await erasing.execute("DELETE FROM messages WHERE author_id = $1", ARIA)

            saving = asyncio.create_task(fold(store, lines[:4], None))
            await until_waiting(pg_url)
            await transaction.commit()

            assert await asyncio.wait_for(saving, 10) is None
        finally:
            await erasing.close()
        assert await store.summary_history(CHANNEL) == []


@pytest.mark.postgres
async def test_a_forget_run_while_a_fold_is_saved_erases_the_fold(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        lines = await scene(store)
        # Another process's fold of Aria's lines, caught between its insert and its commit.
        saving = await asyncpg.connect(pg_url)
        try:
            transaction = saving.transaction()
            await transaction.start()
            await saving.execute(LOCK_AGAINST_ERASE)
            await saving.execute(
                "INSERT INTO summaries (channel_id, persona_id, version, text, covers_until, "
                "created_at) VALUES ($1, '', 1, 'Aria schemed.', $2, 0)",
                CHANNEL,
                lines[3].id,
            )

            forgetting = asyncio.create_task(store.forget_user(ARIA))
            await until_waiting(pg_url)
            await transaction.commit()

            erased = await asyncio.wait_for(forgetting, 10)
        finally:
            await saving.close()
        assert (erased["messages"], erased["summaries"]) == (3, 1)
        assert await store.summary_history(CHANNEL) == []
