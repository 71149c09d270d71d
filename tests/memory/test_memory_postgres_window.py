"""Reading a window from PostgreSQL costs the same whatever the channel's history."""

import json

import asyncpg
import pytest

from bot.memory import open_store
from bot.memory.messages import AFTER_SQL, WINDOW_SQL

pytestmark = pytest.mark.postgres

BIG, SMALL = 1, 2
BIG_ROWS, SMALL_ROWS = 20_000, 100


async def bulk_fill(conn) -> None:
    """BIG_ROWS messages in channel BIG with SMALL_ROWS in SMALL spread evenly among them."""
    every = BIG_ROWS // SMALL_ROWS
    rows = [
        (SMALL if n % every == 0 else BIG, 500, n, 7, "Aria", "human", f"message {n} " + "x" * 200,
         0.0)
        for n in range(1, BIG_ROWS + SMALL_ROWS + 1)
    ]  # fmt: skip
    await conn.copy_records_to_table(
        "messages",
        records=rows,
        columns=[
            "channel_id", "guild_id", "discord_id", "author_id", "author_name", "kind", "text",
            "created_at",
        ],
    )  # fmt: skip
    await conn.execute("VACUUM ANALYZE messages")


async def plan(conn, sql: str, *params: int) -> tuple[set[str], int]:
    """The node types of a query's plan, and how many buffers running it touched."""
    [root] = json.loads(
        await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *params)
    )
    nodes: set[str] = set()
    pending = [root["Plan"]]
    while pending:
        node = pending.pop()
        nodes.add(node["Node Type"])
        pending.extend(node.get("Plans", []))
    buffers = root["Plan"]["Shared Hit Blocks"] + root["Plan"]["Shared Read Blocks"]
    return nodes, buffers


async def test_window_cost_does_not_grow_with_history(pg_url: str) -> None:
    async with open_store(pg_url) as store:
        conn = await asyncpg.connect(pg_url)
        try:
            await bulk_fill(conn)
            whole_nodes, whole = await plan(
                conn, "SELECT MAX(length(text)) FROM messages WHERE channel_id = $1", BIG
            )
            for limit in (20, 80):
                for sql in (WINDOW_SQL, AFTER_SQL):
                    for channel in (BIG, SMALL):
                        nodes, buffers = await plan(conn, sql, channel, 0, limit)
                        assert "Sort" not in nodes and "Seq Scan" not in nodes, (sql, nodes)
                        # At worst one heap page per row, plus a few index pages.
                        assert buffers <= limit + 10, (sql, channel, limit, buffers)
        finally:
            await conn.close()
        # The same measure does see work that grows with history:
        assert whole > 5 * (80 + 10), (whole_nodes, whole)

        window = await store.window(BIG, limit=3)
        assert [m.text.split()[1] for m in window] == ["20098", "20099", "20100"]
        assert [m.discord_id for m in await store.window(SMALL, limit=2)] == [19_800, 20_000]
