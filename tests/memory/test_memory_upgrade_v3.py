"""A v3 database upgrades to v4 in place: every row kept, and every line recall may return
indexed."""

import sqlite3
from pathlib import Path

import pytest

from bot.memory import RecallHit, open_store
from bot.memory.migrate import load_migrations

from .helpers import FakeClock
from .v2_database import build_postgres, build_sqlite, dump_postgres, dump_sqlite


async def built_at_v3(target: str) -> dict:
    if target.startswith("postgresql://"):
        await build_postgres(target, version=3)
        return await dump_postgres(target)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    build_sqlite(target, version=3)
    return dump_sqlite(target)


async def dumped(target: str) -> dict:
    if target.startswith("postgresql://"):
        tables = await dump_postgres(target)
        for row in tables["messages"] + tables["summaries"]:
            row.pop("search")
        return tables
    return dump_sqlite(target)


def found(hits: list[RecallHit]) -> list[tuple[str, int]]:
    return sorted((hit.kind, hit.id) for hit in hits)


async def test_every_row_is_kept_and_indexed(target: str, clock: FakeClock) -> None:
    before = await built_at_v3(target)

    async with open_store(target, clock=clock) as store:
        assert (await store.stats())["schema_version"] == len(load_migrations("sqlite")) == 4
        # Messages 1-3 (channel 600) and 4 (601) are finished; 5 is still streaming.
        assert found(await store.recall(600, "key")) == [("message", 1), ("summary", 1)]
        assert found(await store.recall(600, "well")) == [("message", 2)]  # the one on show
        assert await store.recall(600, "mat Nowh") == []  # alternatives not on show
        assert await store.recall(600, "brb") == []
        assert found(await store.recall(600, "brb", include_ooc=True)) == [("message", 3)]
        assert found(await store.recall(601, "storm")) == [("message", 4)]
        assert await store.recall(600, "Half sent") == []
        assert await store.recall(601, "rewound") == []  # deleted before the upgrade
        # Current summary versions are already in the prompt; only older ones are recalled.
        assert await store.recall(600, "Edited hand") == []
        assert await store.recall(600, "bard joined", persona_id="bard") == []
        assert await store.integrity_check() == []

    assert await dumped(target) == before


@pytest.mark.sqlite_only
async def test_sqlite_index_holds_exactly_the_finished_lines(target: str) -> None:
    await built_at_v3(target)
    async with open_store(target):
        pass

    with sqlite3.connect(target) as raw:
        rowids = sorted(row[0] for row in raw.execute("SELECT rowid FROM recall_index"))
        until = raw.execute("SELECT indexed_until FROM recall_index_state").fetchone()[0]
    raw.close()
    assert rowids == [-3, -2, -1, 1, 2, 3, 4]
    assert until == 7  # ids 6 and 7 were handed out before they were deleted
