"""End-to-end latency and load of a roleplay turn, against the fakes with no added latency.

    .venv/bin/python bench/bench_roleplay.py [--fakes process|inprocess] [--only latency load
        ingest] [--history 100000] [--turns 40] [--gap 6.5] [--channels 100] [--json]

Measures, with the real bot, the fake Discord (REST + gateway) and the fake model server on
loopback. With `--fakes process` (the default) both fakes run in a child process of their own
(bench/fakes_process.py), so the benchmark process holds only the bot and its CPU time and event
loop are the bot's alone; `--fakes inprocess` runs all three in one process and one event loop,
as the test harness does (every figure then includes the fakes' work).

1. event -> model request: from the moment the fake Discord dispatches MESSAGE_CREATE to the
   moment the model server receives the request, in a channel with `--history` stored messages;
2. first token -> first Discord request: the model sends its first token, the fake Discord
   receives the request that creates the reply message;
3. last token -> final text: the model sends its last token, the fake Discord receives the
   edit that carries the complete text;
4. `--channels` channels streaming at once with Discord's per-channel limit switched on (5 per
   5 s with headers): 429s served, replies complete, first-text and final-text latency per
   channel (the slowest shows starvation), and CPU time per reply: the bot's process alone,
   and the fakes' process (with `--fakes inprocess`, one figure for all three);
5. ingest: player messages stored per second, nobody addressed.

With BENCH_DETAIL=1 the load scenario also prints every tenth channel's model-request and
first-text delay, sorted: whether the first texts wait on the requests or on each other.

Every timestamp of a request is taken by the fakes (time.monotonic(), CLOCK_MONOTONIC, one clock
for the whole machine); the only figure that mixes the two processes' clocks is "of which in
the bot", whose on_message time comes from the bot's process. The child's clock is checked
against ours at start-up, and every sample is checked for causality (sent <= seen <= request).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fakes_process import Fakes, ModelCall, open_fakes, process_cpu
from bot.memory import ChannelConfig, open_store
from tests.fakes.model_server import Reply
from tests.harness import build_settings, replace_settings, start_bot

MARKER = "▌"
SCENARIOS = ("latency", "load", "ingest")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, samples: list[float]) -> dict[str, float]:
    """Print one line of median / p95 / max and return them in milliseconds."""
    figures = {
        "median_ms": statistics.median(samples) * 1e3,
        "p95_ms": pct(samples, 0.95) * 1e3,
        "max_ms": max(samples) * 1e3,
    }
    print(
        f"  {name:<38} median {ms(statistics.median(samples))}  p95 {ms(pct(samples, 0.95))}"
        f"  max {ms(max(samples))}  (n={len(samples)})"
    )
    return figures


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


async def bulk_history(db: Path, channel_id: int, guild_id: int, user_id: int, count: int) -> None:
    """Store `count` old messages in a channel (schema made by the real store first)."""
    store = await open_store(str(db))
    await store.close()
    lines = [
        "I lean on the rail and watch the gulls wheel over the harbour.",
        "Marta wipes the same glass for the third time, eyes on the door.",
        "We should find the cartographer before the tide turns.",
        "*The lantern gutters as the wind finds a gap in the shutters.*",
    ]
    rows = (
        (channel_id, guild_id, 10_000_000 + n, user_id, "Alice", lines[n % 4], 1.7e9 + n)
        for n in range(count)
    )
    with sqlite3.connect(db) as raw:
        raw.executemany(
            "INSERT INTO messages (channel_id, guild_id, discord_id, author_id, author_name, "
            "kind, text, created_at) VALUES (?, ?, ?, ?, ?, 'human', ?, ?)",
            rows,
        )


SEEN_AT: dict[int, float] = {}
"""Discord message id -> when the bot's on_message started handling it."""


async def note_seen(message) -> None:  # type: ignore[no-untyped-def]
    """An extra on_message listener: discord.py dispatches it with the bot's own."""
    SEEN_AT[message.id] = time.monotonic()


def asks_for(call: ModelCall, turn: int) -> bool:
    """Whether a model request answers the player message that ended with `(turn).`."""
    return call.last_user.endswith(f"({turn}).")


def mode_line(fakes: Fakes) -> str:
    if fakes.shared_process:
        return "bot and both fakes in this process, one event loop"
    return f"bot in this process (pid {os.getpid()}), both fakes in a child process"


async def latency(history: int, turns: int, gap: float, mode: str) -> dict[str, Any]:
    print(f"\n== single channel, {history:,} stored messages, {turns} turns ==")
    with tempfile.TemporaryDirectory() as tmp:
        async with open_fakes(mode, story=True) as fakes:
            print(f"  {mode_line(fakes)}; load average {load_average()}")
            people = await fakes.populate(rooms=1)
            channel, guild, alice = people.rooms[0], people.guild, people.alice
            db = Path(tmp) / "bench.sqlite3"
            started = time.perf_counter()
            await bulk_history(db, channel, guild, alice, history)
            print(f"  built history in {time.perf_counter() - started:.1f} s")
            endpoints = fakes.endpoints
            settings = build_settings(
                endpoints,
                endpoints,
                Path(tmp),
                database=str(db),
                user_cooldown_seconds=0.0,
            )
            async with start_bot(endpoints, settings) as (bot, services):
                bot.add_listener(note_seen, "on_message")
                await services.runtime.configure(
                    ChannelConfig(
                        channel_id=channel, guild_id=guild, enabled=True, cast=("narrator",)
                    )
                )
                to_request, bot_part, to_first, to_final = [], [], [], []
                cpu_from = fakes_cpu_from = 0.0
                for turn in range(turns + 1):
                    # Players post every few seconds; each turn takes 2 of the 5 writes Discord
                    # allows per 5 s (first text, final edit) plus one spare for old buttons, and
                    # those 3 webhook writes must fit the hidden 30 per 60 s of one channel.
                    await asyncio.sleep(gap)
                    if turn == 1:
                        cpu_from = process_cpu()
                        if not fakes.shared_process:
                            fakes_cpu_from = await fakes.cpu()
                    chunks = [f"Beat {turn}.{n} of the tale. " for n in range(6)]
                    final_text = "".join(chunks).rstrip()
                    before = await fakes.model_count()
                    sent_at, said = await fakes.say(channel, alice, f"Narrator, go on ({turn}).")
                    finals = await fakes.wait_final([channel], final_text, timeout=10)
                    message_id = finals[channel]
                    call = next(c for c in await fakes.model_calls(before) if asks_for(c, turn))
                    writes = (await fakes.writes([channel], only=[message_id]))[channel]
                    final = next(w for w in writes if w.content == final_text)
                    if turn == 0:
                        continue  # warm-up: loads the channel window from the database
                    seen = SEEN_AT[said]
                    if not sent_at <= seen <= call.arrived_at:
                        raise RuntimeError(
                            f"turn {turn}: out of order across processes: sent {sent_at:.6f}, "
                            f"bot saw it {seen:.6f}, model request {call.arrived_at:.6f}"
                        )
                    assert call.first_token_at is not None and call.last_token_at is not None
                    to_request.append(call.arrived_at - sent_at)
                    bot_part.append(call.arrived_at - seen)
                    to_first.append(writes[0].at - call.first_token_at)
                    to_final.append(final.at - call.last_token_at)
                bot_cpu = (process_cpu() - cpu_from) / turns
                result = {
                    "mode": mode,
                    "to_request": summary("MESSAGE_CREATE -> model request", to_request),
                    "bot_part": summary("  of which in the bot (on_message ->)", bot_part),
                }
                print("  (the rest is the gateway frame: fake -> websocket -> discord.py parse)")
                result["to_first"] = summary("first token -> first Discord request", to_first)
                result["to_final"] = summary("last token -> final text on Discord", to_final)
                if fakes.shared_process:
                    print(
                        f"  CPU per turn (bot + both fakes, idle gaps included): "
                        f"{bot_cpu * 1e3:.1f} ms"
                    )
                    result["cpu_per_turn_ms"] = bot_cpu * 1e3
                else:
                    fakes_cpu = (await fakes.cpu() - fakes_cpu_from) / turns
                    print(
                        f"  CPU per turn (idle gaps included): bot process {bot_cpu * 1e3:.1f} ms, "
                        f"fakes' process {fakes_cpu * 1e3:.1f} ms"
                    )
                    result["bot_cpu_per_turn_ms"] = bot_cpu * 1e3
                    result["fakes_cpu_per_turn_ms"] = fakes_cpu * 1e3
                result["load_average"] = load_average()
                return result


async def load(
    channels: int,
    database: str | None,
    mode: str,
    *,
    words: int = 40,
    chunk_delay: float = 0.05,
) -> dict[str, Any]:
    print(f"\n== {channels} channels streaming at once, Discord rate limit on ==")
    with tempfile.TemporaryDirectory() as tmp:
        async with open_fakes(mode) as fakes:
            print(f"  {mode_line(fakes)}; load average {load_average()}")
            people = await fakes.populate(rooms=channels)
            guild, rooms = people.guild, people.rooms
            users = [people.alice, people.bob, people.carol]
            await fakes.rate_limit(limit=5, window=5.0)
            endpoints = fakes.endpoints
            settings = build_settings(
                endpoints,
                endpoints,
                Path(tmp),
                user_cooldown_seconds=0.0,
            )
            if database:
                settings = replace_settings(settings, database=database)
            async with start_bot(endpoints, settings) as (_, services):
                for room in rooms:
                    await services.runtime.configure(
                        ChannelConfig(
                            channel_id=room, guild_id=guild, enabled=True, cast=("narrator",)
                        )
                    )
                chunks = tuple(f"word{n} " for n in range(words))
                final_text = "".join(chunks).rstrip()
                await fakes.script([Reply(chunks=chunks, chunk_delay=chunk_delay)] * len(rooms))
                lines = [
                    (room, users[n % 3], f"Narrator, a story ({n}).")
                    for n, room in enumerate(rooms)
                ]
                fakes_cpu0 = None if fakes.shared_process else await fakes.cpu()
                cpu0, wall0 = process_cpu(), time.monotonic()
                sent_at = await fakes.say_many(lines)
                await fakes.wait_final(rooms, final_text, timeout=120)
                wall, cpu = time.monotonic() - wall0, process_cpu() - cpu0
                fakes_cpu = None if fakes_cpu0 is None else await fakes.cpu() - fakes_cpu0
                sent = dict(zip(rooms, sent_at, strict=True))
                calls = await fakes.model_calls()
                writes = await fakes.writes(rooms)
                status = await fakes.status()
                first_text, final_lag, writes_per_reply = [], [], []
                for n, room in enumerate(rooms):
                    call = next(c for c in calls if asks_for(c, n))
                    final = next(w for w in writes[room] if w.content == final_text)
                    assert call.last_token_at is not None
                    first_text.append(writes[room][0].at - sent[room])
                    final_lag.append(final.at - call.last_token_at)
                    writes_per_reply.append(len(writes[room]))
                print(f"  replies complete: {len(rooms)}/{len(rooms)} in {wall:.2f} s wall")
                if os.environ.get("BENCH_DETAIL"):
                    asked = [
                        next(c for c in calls if asks_for(c, n)).arrived_at - sent[room]
                        for n, room in enumerate(rooms)
                    ]
                    print("  model request (ms):", sorted(round(x * 1e3) for x in asked)[::10])
                    print("  first text (ms):", sorted(round(x * 1e3) for x in first_text)[::10])
                print(f"  429s served by the fake: {status['rate_limit_hits']}")
                result: dict[str, Any] = {
                    "mode": mode,
                    "channels": len(rooms),
                    "complete": len(writes),
                    "wall_s": wall,
                    "rate_limit_hits": status["rate_limit_hits"],
                    "fake_internal_errors": status["internal_errors"],
                    "first_text": summary("message -> first text (per channel)", first_text),
                    "final_lag": summary("last token -> final text (per channel)", final_lag),
                }
                per_reply = cpu / len(rooms) * 1e3
                if fakes_cpu is None:
                    print(f"  CPU per reply (bot + both fakes, one process): {per_reply:.1f} ms")
                    result["cpu_per_reply_ms"] = per_reply
                else:
                    fakes_per_reply = fakes_cpu / len(rooms) * 1e3
                    print(
                        f"  CPU per reply: bot process {per_reply:.1f} ms, "
                        f"fakes' process {fakes_per_reply:.1f} ms"
                    )
                    result["bot_cpu_per_reply_ms"] = per_reply
                    result["fakes_cpu_per_reply_ms"] = fakes_per_reply
                print(
                    f"  Discord writes per reply: median {statistics.median(writes_per_reply)}, "
                    f"max {max(writes_per_reply)}"
                )
                result["writes_per_reply_median"] = statistics.median(writes_per_reply)
                result["load_average"] = load_average()
                return result


async def ingest(messages: int, database: str | None, mode: str) -> dict[str, Any]:
    """Players' messages a process takes in per second (stored, OOC-checked, addressed-checked)."""
    print(f"\n== ingest: {messages} player messages over 10 channels, nobody addressed ==")
    with tempfile.TemporaryDirectory() as tmp:
        async with open_fakes(mode) as fakes:
            print(f"  {mode_line(fakes)}; load average {load_average()}")
            people = await fakes.populate(rooms=10)
            rooms, alice = people.rooms, people.alice
            endpoints = fakes.endpoints
            settings = build_settings(
                endpoints,
                endpoints,
                Path(tmp),
                user_cooldown_seconds=0.0,
            )
            if database:
                settings = replace_settings(settings, database=database)
            async with start_bot(endpoints, settings) as (_, services):
                for room in rooms:
                    await services.runtime.configure(
                        ChannelConfig(
                            channel_id=room, guild_id=people.guild, enabled=True, cast=("vex",)
                        )
                    )
                store = services.store
                before = sum([await store.count_messages(r) for r in rooms])
                lines = [
                    (rooms[n % len(rooms)], alice, f"I walk on, step {n}.") for n in range(messages)
                ]
                cpu0, started = process_cpu(), time.monotonic()
                await fakes.say_many(lines)

                async def stored() -> int:
                    return sum([await store.count_messages(r) for r in rooms]) - before

                while await stored() < messages:
                    await asyncio.sleep(0.01)
                elapsed, cpu = time.monotonic() - started, process_cpu() - cpu0
                assert not await fakes.model_count()
                who = "bot + both fakes" if fakes.shared_process else "bot process"
                print(
                    f"  {messages / elapsed:,.0f} messages/s stored ({elapsed:.2f} s); "
                    f"CPU per message ({who}) {cpu / messages * 1e3:.2f} ms"
                )
                return {
                    "mode": mode,
                    "per_second": messages / elapsed,
                    "cpu_per_message_ms": cpu / messages * 1e3,
                    "load_average": load_average(),
                }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--fakes",
        choices=("process", "inprocess"),
        default="process",
        help="run both fakes in a child process (default) or in the bot's process",
    )
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument(
        "--gap",
        type=float,
        default=6.5,
        help="seconds between turns (3 webhook writes a turn must fit 30 per 60 s)",
    )
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--ingest", type=int, default=2000, help="messages for the ingest run")
    parser.add_argument("--database", default=None, help="a postgresql:// URL (default SQLite)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)
    results: dict[str, Any] = {}
    with contextlib.suppress(KeyboardInterrupt):
        if "latency" in args.only:
            results["latency"] = await latency(args.history, args.turns, args.gap, args.fakes)
        if "load" in args.only:
            results["load"] = await load(args.channels, args.database, args.fakes)
        if "ingest" in args.only:
            results["ingest"] = await ingest(args.ingest, args.database, args.fakes)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
