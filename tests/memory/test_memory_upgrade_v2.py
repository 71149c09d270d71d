"""A database the v2 release left behind upgrades in place, on both backends, losing nothing."""

import sqlite3
from pathlib import Path

import pytest

from bot.memory import UsageRecord, open_store
from bot.memory.migrate import load_migrations
from bot.models import ReplyStatus

from .helpers import FakeClock
from .v2_database import build_postgres, build_sqlite, dump_postgres, dump_sqlite


async def built(target: str) -> dict:
    if target.startswith("postgresql://"):
        await build_postgres(target)
        return await dump_postgres(target)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    build_sqlite(target)
    return dump_sqlite(target)


async def dumped(target: str) -> dict:
    if target.startswith("postgresql://"):
        return await dump_postgres(target)
    return dump_sqlite(target)


async def test_every_row_survives_the_upgrade(target: str, clock: FakeClock) -> None:
    before = await built(target)
    assert before["messages"] and before["swipes"] and before["usage_ledger"]

    async with open_store(target, clock=clock) as store:
        stats = await store.stats()
        assert stats["schema_version"] == len(load_migrations("sqlite")) == 4
        assert await store.integrity_check() == []
        # Opening touched nothing, not even the reply a crash left streaming.
        assert [reply.id for reply in await store.unfinished_replies()] == [5]

    after = await dumped(target)
    for row in after["usage_ledger"]:
        assert row.pop("flags") == ""
    for row in after["messages"] + after["summaries"]:
        row.pop("search", None)  # PostgreSQL's recall index (SQLite's is a table of its own)
    assert after == before


async def test_upgraded_database_keeps_ids_keys_and_takes_the_new_features(
    target: str, clock: FakeClock
) -> None:
    await built(target)

    async with open_store(target, clock=clock) as store:
        # Ids 6 and 7 were handed out before: they never come back.
        new_id = await store.begin_reply(600, 500, "narrator", "The Narrator", reply_to=1)
        assert new_id == 8
        # The reply kept its alternatives and its Discord parts.
        shown = await store.get_by_discord_id(2003)
        assert shown is not None
        assert (shown.id, shown.text, shown.swipe_index, shown.swipe_count) == (
            2,
            "In the well.",
            1,
            3,
        )
        assert shown.discord_ids == (2001, 2002, 2003)
        failed = await store.add_alternative(2, "", ReplyStatus.FAILED)
        assert (failed.swipe_index, failed.status) == (3, ReplyStatus.FAILED)
        assert (await store.select_alternative(2, 0)).text == "Under the mat."
        done = await store.finish_reply(5, "", ReplyStatus.FAILED)
        assert done.status is ReplyStatus.FAILED
        assert [reply.id for reply in await store.unfinished_replies()] == [new_id]
        await store.record_usage(
            UsageRecord(500, 600, 7, "narrator", 10, 5, 4, flags="output_sensitive:2")
        )
        assert (await store.usage_report(500)).total.cached_tokens == 1004
        await store.set_state("dialect:minimax/m2-her", "native")
        assert await store.get_state("dialect:minimax/m2-her") == "native"
        # Foreign keys still hold: deleting the reply takes its alternatives and parts along.
        assert await store.delete_message(2002)
        assert await store.get_by_discord_id(2003) is None
        assert await store.integrity_check() == []
        answer = await store.get_message(new_id)
        assert answer is not None
        assert answer.reply_to == 1


@pytest.mark.sqlite_only
async def test_sqlite_rebuild_keeps_indexes_sequence_and_checks(target: str) -> None:
    await built(target)

    def schema() -> tuple[set[str], int]:
        with sqlite3.connect(target) as raw:
            indexes = {
                row[0] for row in raw.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")
            }
            seq = raw.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
        raw.close()
        return indexes, seq[0]

    indexes, seq = schema()
    assert seq == 7
    async with open_store(target):
        pass
    new_keys = {f"sqlite_autoindex_{table}_1" for table in ("runtime_state", "lorebooks")}
    assert schema() == (indexes | new_keys | {"sqlite_autoindex_persona_ratings_1"}, 7)
    with sqlite3.connect(target) as raw:
        assert "messages_new" not in str(raw.execute("SELECT sql FROM sqlite_schema").fetchall())
        raw.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            raw.execute("UPDATE messages SET status = 'bogus' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            raw.execute("INSERT INTO swipes VALUES (99, 0, 'orphan', 'complete', 1.0)")
    raw.close()
