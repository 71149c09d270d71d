"""Memory-store benchmark: append throughput, prompt-window load time and recall queries in
a huge channel.

    .venv/bin/python bench/bench_memory.py                 # 1,000,000 messages, ~1 min
    .venv/bin/python bench/bench_memory.py --messages 100000 --keep /tmp/bench.sqlite3
    .venv/bin/python bench/bench_memory.py --postgres postgresql://postgres@127.0.0.1:54329/x

Appends go through the real store (`add_message`, `begin_reply` + `finish_reply`). The big
channel is then bulk-loaded with plain sqlite3 into a schema v3 file (a fast path for
building the file only), opened with the real store (which upgrades it, so the first open
times the latest migrations), and windows are read through the real store from a channel
of --messages rows and from one of 100 rows spread across the same file. Recall queries
(2 to 4 rare words of the same Zipf-distributed vocabulary as the lines) run through the
real store before the channel's newest 200 lines, as a turn would.

With --postgres the same figures are measured on that PostgreSQL database instead, in
throwaway schemas (dropped at the end) bulk-loaded with COPY.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosqlite

from bot.memory import NewMessage, open_store
from bot.memory.migrate import load_migrations
from bot.models import ReplyStatus

BIG, SMALL, APPEND = 1, 2, 3
GUILD = 500
SMALL_MESSAGES = 100
BUILT_AT = 3
"""The schema version the big database is built at; opening it applies the newer ones."""
VOCABULARY = 200_000
TEXTS = 20_000


class Corpus:
    """Roleplay-sized lines (40 to 400 characters) of words drawn from a Zipf distribution
    over a made-up vocabulary: a few words everywhere, most rare, as in a long campaign.
    """

    def __init__(self, seed: int = 42) -> None:
        rng = random.Random(seed)
        letters = "abcdefghijklmnopqrstuvwxyz"
        words: dict[str, None] = {}
        while len(words) < VOCABULARY:
            words["".join(rng.choice(letters) for _ in range(rng.randint(3, 10)))] = None
        self.words = list(words)
        self.cumulative = list(
            itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(VOCABULARY))
        )
        self.texts = [self._line(rng) for _ in range(TEXTS)]

    def _line(self, rng: random.Random) -> str:
        # About 6.8 characters a word: 6 to 58 words make 40 to 400 characters.
        words = rng.choices(self.words, cum_weights=self.cumulative, k=rng.randint(6, 58))
        return " ".join(words).capitalize() + "."

    def lines(self, count: int) -> Iterator[str]:
        """`count` distinct lines (a rare word stays rare however many lines there are)."""
        rng = random.Random(11)
        for _ in range(count):
            yield self._line(rng)

    def queries(self, count: int) -> list[list[str]]:
        """2 to 4 words each, none of the 500 commonest (the caller drops those)."""
        rng = random.Random(7)
        return [
            [self.words[rng.randrange(500, VOCABULARY // 4)] for _ in range(rng.randint(2, 4))]
            for _ in range(count)
        ]


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


def bulk_rows(count: int, corpus: Corpus):
    """`count` messages in BIG with SMALL's 100 spread evenly among them."""
    every = max(count // SMALL_MESSAGES, 1)
    lines = corpus.lines(count + SMALL_MESSAGES)
    for n, text in enumerate(lines, start=1):
        channel = SMALL if n % every == 0 and n <= every * SMALL_MESSAGES else BIG
        kind = "persona" if n % 3 == 0 else "human"
        yield (channel, n, kind, text, 1_700_000_000 + n)


async def create_at_built_version(path: Path) -> None:
    """An empty SQLite file at schema `BUILT_AT`, as an older release left it."""
    from bot.memory.sqlite import migrate

    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("PRAGMA journal_mode = WAL")
        await migrate(db, load_migrations("sqlite")[:BUILT_AT], str(path))


async def create_postgres_at_built_version(url: str) -> None:
    import asyncpg

    from bot.memory.postgres.backend import migrate
    from bot.memory.postgres.target import parse_target

    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, load_migrations("postgres")[:BUILT_AT], parse_target(url))
    finally:
        await conn.close()


def bulk_build(path: Path, count: int, corpus: Corpus) -> None:
    """Bulk-load the big channel in one transaction."""
    started = time.perf_counter()
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO messages (channel_id, guild_id, discord_id, author_id, author_name, "
            f"kind, text, created_at) VALUES (?, {GUILD}, ?, 7, 'Aria', ?, ?, ?)",
            bulk_rows(count, corpus),
        )
    elapsed = time.perf_counter() - started
    size = path.stat().st_size / 2**20
    print(f"bulk-built {count:,} + {SMALL_MESSAGES} messages in {elapsed:.1f} s ({size:.0f} MiB)")


async def bulk_build_postgres(url: str, count: int, corpus: Corpus) -> None:
    """Bulk-load the big channel with COPY, then ANALYZE as autovacuum soon would."""
    import asyncpg

    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "messages",
            records=(
                (channel, GUILD, discord_id, 7, "Aria", kind, text, created_at)
                for channel, discord_id, kind, text, created_at in bulk_rows(count, corpus)
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


async def bench_windows(
    path: Path | str, count: int, limits: list[int], runs: int, corpus: Corpus, recalls: int
) -> None:
    started = time.perf_counter()
    store = await open_store(path)
    version = (await store.stats())["schema_version"]
    upgrade = f" (upgrades schema v{BUILT_AT} to v{version})" if version > BUILT_AT else ""
    print(f"open_store on the big database{upgrade}: {ms(time.perf_counter() - started)}")
    async with store:
        if hasattr(store, "recall"):
            await bench_recall(store, corpus, recalls)
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


async def bench_recall(store, corpus: Corpus, count: int) -> None:
    """Recall before the big channel's newest 200 lines, as a turn does."""
    window = await store.window(BIG, limit=200)
    started = time.perf_counter()
    await store.recall(BIG, "warm up", before_id=window[0].id)
    print(f"first recall (a warm-up): {ms(time.perf_counter() - started)}")
    samples, hits = [], []
    for query in corpus.queries(count):
        before = time.perf_counter()
        found = await store.recall(BIG, query, before_id=window[0].id)
        samples.append(time.perf_counter() - before)
        hits.append(len(found))
    median, p95 = statistics.median(samples), percentile(samples, 0.95)
    print(
        f"recall x{count} (2-4 rare words, 5 hits max): median {ms(median)}  p95 {ms(p95)}  "
        f"max {ms(max(samples))}; {statistics.mean(hits):.1f} hits on average, "
        f"{sum(1 for n in hits if n == 0)} queries found nothing"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="rows in the big channel")
    parser.add_argument("--appends", type=int, default=5000, help="add_message calls to time")
    parser.add_argument("--runs", type=int, default=50, help="window reads per measurement")
    parser.add_argument("--limits", type=int, nargs="+", default=[100, 200, 2000])
    parser.add_argument("--recalls", type=int, default=500, help="recall queries to time")
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument(
        "--erase", action="store_true", help="also time forget_user (VACUUMs the whole file)"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="measure this PostgreSQL database instead of SQLite"
    )
    args = parser.parse_args()

    corpus = Corpus()
    texts = corpus.texts
    if args.postgres:
        await bench_postgres(args, corpus)
        return
    with tempfile.TemporaryDirectory() as scratch:
        print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
        await bench_appends(Path(scratch) / "appends.sqlite3", args.appends, texts)
        path = args.keep or Path(scratch) / "big.sqlite3"
        if path.exists():
            raise SystemExit(f"{path} exists; remove it first")
        await create_at_built_version(path)
        bulk_build(path, args.messages, corpus)
        await bench_windows(path, args.messages, args.limits, args.runs, corpus, args.recalls)
        if args.erase:
            await bench_erase(path)


async def bench_postgres(args: argparse.Namespace, corpus: Corpus) -> None:
    texts = corpus.texts
    async with throwaway_schema(args.postgres) as appends_url:
        async with open_store(appends_url) as store:
            server = (await store.stats())["server_version"]
        print(f"PostgreSQL {server}, Python {sys.version.split()[0]}")
        await bench_appends(appends_url, args.appends, texts)
    async with throwaway_schema(args.postgres) as url:
        await create_postgres_at_built_version(url)
        await bulk_build_postgres(url, args.messages, corpus)
        await bench_windows(url, args.messages, args.limits, args.runs, corpus, args.recalls)
        if args.erase:
            await bench_erase(url)


async def bench_erase(target: Path | str) -> None:
    """Forget a player with 10 lines (the fixed cost of an erase), then the one with all."""
    async with open_store(target) as store:
        for n in range(10):
            await store.add_message(NewMessage(BIG, GUILD, 10**17 + n, 9, "Cass", "bye"))
        for user in (9, 7):
            before = time.perf_counter()
            counts = await store.forget_user(user)
            elapsed = time.perf_counter() - before
            print(f"forget_user erased {counts['messages']:,} messages in {elapsed:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
