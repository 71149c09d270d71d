"""Reading a window costs the same whatever the channel's history: indexed, bounded queries."""

import sqlite3
from pathlib import Path

from bot.memory import open_store
from bot.memory.messages import AFTER_SQL as AFTER
from bot.memory.messages import WINDOW_SQL as WINDOW
from bot.memory.sqlite import sqlite_sql

# The store writes SQL once with `$n` placeholders; SQLite runs it as `?n`.
WINDOW_SQL, AFTER_SQL = sqlite_sql(WINDOW), sqlite_sql(AFTER)

BIG, SMALL = 1, 2


def bulk_fill(path: Path, big: int, small: int) -> None:
    """`big` messages in channel BIG with `small` in channel SMALL spread evenly among them."""
    every = big // small
    rows = (
        (SMALL if n % every == 0 and n <= every * small else BIG, n, f"message {n}")
        for n in range(1, big + small + 1)
    )
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO messages (channel_id, guild_id, discord_id, author_id, author_name, "
            "kind, text, created_at) VALUES (?, 500, ?, 7, 'Aria', 'human', ?, 0)",
            rows,
        )


def vm_steps(path: Path, sql: str, params: tuple[int, ...], every: int = 1) -> int:
    """How many SQLite virtual-machine instructions a query takes (counted `every` steps)."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += every
        return 0

    with sqlite3.connect(path) as raw:
        raw.set_progress_handler(count, every)
        rows = raw.execute(sql, params).fetchall()
    assert rows
    return steps


async def test_window_queries_walk_the_channel_index(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path):
        pass
    with sqlite3.connect(path) as raw:
        for sql in (WINDOW_SQL, AFTER_SQL):
            plan = " | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", (1, 0, 5)))
            assert "SEARCH messages USING INDEX messages_channel (channel_id=? AND id>?)" in plan
            assert "TEMP B-TREE" not in plan
            assert "SCAN" not in plan


async def test_window_cost_does_not_grow_with_history(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    async with open_store(path):
        pass
    bulk_fill(path, big=30_000, small=100)

    for limit in (20, 80):
        big = vm_steps(path, WINDOW_SQL, (BIG, 0, limit))
        small = vm_steps(path, WINDOW_SQL, (SMALL, 0, limit))
        assert big <= small * 1.2, (limit, big, small)
        oldest = vm_steps(path, AFTER_SQL, (BIG, 0, limit))
        assert oldest <= small * 1.2, (limit, oldest, small)
    # The counter does see work that grows with history:
    whole = vm_steps(path, "SELECT COUNT(*) FROM messages WHERE channel_id = ?", (BIG,), 100)
    assert whole > 20 * big

    async with open_store(path) as store:
        window = await store.window(BIG, limit=3)
        assert [m.text for m in window] == [f"message {n}" for n in (30_098, 30_099, 30_100)]
        small_window = await store.window(SMALL, limit=2)
        assert [m.discord_id for m in small_window] == [29_700, 30_000]
