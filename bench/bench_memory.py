"""Memory-store benchmark: append throughput, and prompt-window load time in a huge channel.

    .venv/bin/python bench/bench_memory.py                 # 1,000,000 messages, ~10-20 s
    .venv/bin/python bench/bench_memory.py --messages 100000 --keep /tmp/bench.sqlite3
    .venv/bin/python bench/bench_memory.py --postgres postgresql://postgres@127.0.0.1:54329/x

Appends go through the real store (`add_message`, `begin_reply` + `finish_reply`). The big
channel is then bulk-loaded with plain sqlite3 (a fast path for building the file only), and
windows are read through the real store from a channel of --messages rows and from one of
100 rows spread across the same file.

With --postgres the same figures are measured on that PostgreSQL database instead, in
throwaway schemas (dropped at the end) bulk-loaded with COPY.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.memory import NewMessage, open_store
from bot.models import ReplyStatus

BIG, SMALL, APPEND = 1, 2, 3
GUILD = 500
SMALL_MESSAGES = 100
WORDS = ("the", "storm", "rolls", "over", "harbour", "as", "Aria", "draws", "her", "blade", "bard")


def sample_texts(count: int = 1000) -> list[str]:
    """Roleplay-sized lines: 40 to 400 characters."""
    rng = random.Random(42)
    texts = []
    for _ in range(count):
        length = rng.randint(40, 400)
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < length:
            words.append(rng.choice(WORDS))
        texts.append(" ".join(words))
    return texts


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def bench_appends(path: Path | str, count: int, texts: list[str]) -> None:
    async with open_store(path) as store:
        latencies = []
        started = time.perf_counter()
        for n in range(count):
            before = time.perf_counter()
            await store.add_message(
                NewMessage(APPEND, GUILD, 10**15 + n, 7, "Aria", texts[n % len(texts)])
            )
            latencies.append(time.perf_counter() - before)
        elapsed = time.perf_counter() - started
        print(f"add_message x{count}: {count / elapsed:9.0f} msgs/s")
        p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
        print(f"  latency p50 {ms(p50)}  p99 {ms(p99)}")

        replies = max(count // 5, 1)
        started = time.perf_counter()
        for n in range(replies):
            reply_id = await store.begin_reply(APPEND, GUILD, "narrator", "Narrator")
            await store.finish_reply(
                reply_id, texts[n % len(texts)], ReplyStatus.COMPLETE, [2 * 10**15 + n]
            )
        elapsed = time.perf_counter() - started
        print(f"begin_reply + finish_reply x{replies}: {replies / elapsed:9.0f} replies/s")


def bulk_rows(count: int, texts: list[str]):
    """`count` messages in BIG with SMALL's 100 spread evenly among them."""
    every = max(count // SMALL_MESSAGES, 1)
    for n in range(1, count + SMALL_MESSAGES + 1):
        channel = SMALL if n % every == 0 and n <= every * SMALL_MESSAGES else BIG
        kind = "persona" if n % 3 == 0 else "human"
        yield (channel, n, kind, texts[n % len(texts)], 1_700_000_000 + n)


def bulk_build(path: Path, count: int, texts: list[str]) -> None:
    """Bulk-load the big channel in one transaction."""
    started = time.perf_counter()
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO messages (channel_id, guild_id, discord_id, author_id, author_name, "
            f"kind, text, created_at) VALUES (?, {GUILD}, ?, 7, 'Aria', ?, ?, ?)",
            bulk_rows(count, texts),
        )
    elapsed = time.perf_counter() - started
    size = path.stat().st_size / 2**20
    print(f"bulk-built {count:,} + {SMALL_MESSAGES} messages in {elapsed:.1f} s ({size:.0f} MiB)")


async def bulk_build_postgres(url: str, count: int, texts: list[str]) -> None:
    """Bulk-load the big channel with COPY, then ANALYZE as autovacuum soon would."""
    import asyncpg

    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "messages",
            records=(
                (channel, GUILD, discord_id, 7, "Aria", kind, text, created_at)
                for channel, discord_id, kind, text, created_at in bulk_rows(count, texts)
            ),
            columns=[
                "channel_id", "guild_id", "discord_id", "author_id", "author_name", "kind",
                "text", "created_at",
            ],
        )  # fmt: skip
        await conn.execute("VACUUM ANALYZE messages")
        size = await conn.fetchval("SELECT pg_total_relation_size('messages')") / 2**20
    finally:
        await conn.close()
    elapsed = time.perf_counter() - started
    print(f"bulk-built {count:,} + {SMALL_MESSAGES} messages in {elapsed:.1f} s ({size:.0f} MiB)")


def in_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("search_path", schema)])))


@asynccontextmanager
async def throwaway_schema(url: str) -> AsyncIterator[str]:
    """A fresh schema of the database at `url`, dropped afterwards; yields a URL using it."""
    import asyncpg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        yield in_schema(url, schema)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def bench_windows(path: Path | str, count: int, limits: list[int], runs: int) -> None:
    started = time.perf_counter()
    store = await open_store(path)
    print(f"open_store on the big database: {ms(time.perf_counter() - started)}")
    async with store:
        print(f"window(limit)  {f'{count:,}-message channel':>36}  {'100-message channel':>36}")
        for limit in limits:
            cells = []
            for channel in (BIG, SMALL):
                await store.window(channel, limit=limit)  # warm the page cache
                samples = []
                for _ in range(runs):
                    before = time.perf_counter()
                    window = await store.window(channel, limit=limit)
                    samples.append(time.perf_counter() - before)
                median, p95 = statistics.median(samples), percentile(samples, 0.95)
                cells.append(f"{len(window):>4} rows  median {ms(median)}  p95 {ms(p95)}")
            print(f"{limit:>13}  " + "  ".join(cells))
        latencies = []
        for n in range(500):
            before = time.perf_counter()
            await store.add_message(NewMessage(BIG, GUILD, 10**16 + n, 7, "Aria", "one more line"))
            latencies.append(time.perf_counter() - before)
        print(
            f"add_message into the big channel: p50 {ms(statistics.median(latencies))}  "
            f"p99 {ms(percentile(latencies, 0.99))}"
        )
        for name, call in (
            ("latest_id", lambda: store.latest_id(BIG)),
            ("count_messages", lambda: store.count_messages(BIG)),
        ):
            before = time.perf_counter()
            await call()
            print(f"{name}(big channel): {ms(time.perf_counter() - before)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="rows in the big channel")
    parser.add_argument("--appends", type=int, default=5000, help="add_message calls to time")
    parser.add_argument("--runs", type=int, default=50, help="window reads per measurement")
    parser.add_argument("--limits", type=int, nargs="+", default=[100, 200, 2000])
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument(
        "--erase", action="store_true", help="also time forget_user (VACUUMs the whole file)"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="measure this PostgreSQL database instead of SQLite"
    )
    args = parser.parse_args()

    texts = sample_texts()
    if args.postgres:
        await bench_postgres(args, texts)
        return
    with tempfile.TemporaryDirectory() as scratch:
        print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
        await bench_appends(Path(scratch) / "appends.sqlite3", args.appends, texts)
        path = args.keep or Path(scratch) / "big.sqlite3"
        if path.exists():
            raise SystemExit(f"{path} exists; remove it first")
        async with open_store(path):
            pass
        bulk_build(path, args.messages, texts)
        await bench_windows(path, args.messages, args.limits, args.runs)
        if args.erase:
            await bench_erase(path)


async def bench_postgres(args: argparse.Namespace, texts: list[str]) -> None:
    async with throwaway_schema(args.postgres) as appends_url:
        async with open_store(appends_url) as store:
            server = (await store.stats())["server_version"]
        print(f"PostgreSQL {server}, Python {sys.version.split()[0]}")
        await bench_appends(appends_url, args.appends, texts)
    async with throwaway_schema(args.postgres) as url:
        async with open_store(url):
            pass
        await bulk_build_postgres(url, args.messages, texts)
        await bench_windows(url, args.messages, args.limits, args.runs)
        if args.erase:
            await bench_erase(url)


async def bench_erase(target: Path | str) -> None:
    async with open_store(target) as store:
        before = time.perf_counter()
        counts = await store.forget_user(7)
        elapsed = time.perf_counter() - before
    print(f"forget_user erased {counts['messages']:,} messages in {elapsed:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
