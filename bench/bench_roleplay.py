"""End-to-end latency and load of a roleplay turn, against the fakes with no added latency.

    .venv/bin/python bench/bench_roleplay.py [--history 100000] [--turns 40] [--channels 100]

Measures, with the real bot, the fake Discord (REST + gateway) and the fake model server all
on loopback in one process:

1. event -> model request: from the moment the fake Discord dispatches MESSAGE_CREATE to the
   moment the model server receives the request, in a channel with `--history` stored messages;
2. first token -> first Discord request: the model sends its first token, the fake Discord
   receives the request that creates the reply message;
3. last token -> final text: the model sends its last token, the fake Discord receives the
   edit that carries the complete text;
4. `--channels` channels streaming at once with Discord's per-channel limit switched on (5 per
   5 s with headers): 429s served, replies complete, first-text and final-text latency per
   channel (the slowest shows starvation), and CPU time per reply (bot + both fakes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.memory import ChannelConfig, open_store
from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer, Reply
from tests.harness import build_settings, populate, replace_settings, start_bot

MARKER = "▌"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, samples: list[float]) -> None:
    print(
        f"  {name:<38} median {ms(statistics.median(samples))}  p95 {ms(pct(samples, 0.95))}"
        f"  max {ms(max(samples))}  (n={len(samples)})"
    )


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


def story_reply(request) -> Reply:
    """Six short beats naming the turn the player asked for; a summary request gets one line."""
    messages = request.messages
    if messages and "running summary" in str(messages[0].get("content", "")):
        return Reply(text="Earlier, the crew crossed the harbour.")
    users = [m for m in messages if m.get("role") == "user"]
    tag = str(users[-1].get("content", "")).rsplit("(", 1)[-1].rstrip(").") if users else "?"
    return Reply(chunks=[f"Beat {tag}.{n} of the tale. " for n in range(6)], chunk_delay=0.02)


SEEN_AT: dict[int, float] = {}
"""Discord message id -> when the bot's on_message started handling it."""


async def note_seen(message) -> None:  # type: ignore[no-untyped-def]
    """An extra on_message listener: discord.py dispatches it with the bot's own."""
    SEEN_AT[message.id] = time.monotonic()


def asks_for(request, turn: int) -> bool:
    """Whether a model request answers the player message that ended with `(turn).`."""
    users = [m for m in request.body["messages"] if m.get("role") == "user"]
    return bool(users) and str(users[-1]["content"]).endswith(f"({turn}).")


def writes_for(fake: FakeDiscord, message_ids: set[int]) -> list:
    """Webhook creates and edits that made or changed the given messages, oldest first."""
    found = []
    for request in fake.requests():
        if not request.path.startswith("/webhooks/") or request.status >= 300:
            continue
        if request.method == "POST" and isinstance(request.response, dict):
            if int(request.response.get("id", 0)) in message_ids:
                found.append(request)
        elif request.method == "PATCH":
            tail = request.path.rsplit("/", 1)[-1]
            if tail.isdigit() and int(tail) in message_ids:
                found.append(request)
    return found


async def latency(history: int, turns: int, gap: float) -> None:
    print(f"\n== single channel, {history:,} stored messages, {turns} turns ==")
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake, FakeModelServer(default_reply=story_reply) as model:
            people = populate(fake)
            channel, guild, alice = people["channel"], people["guild"], people["alice"]
            db = Path(tmp) / "bench.sqlite3"
            started = time.perf_counter()
            await bulk_history(db, channel.id, guild.id, alice.id, history)
            print(f"  built history in {time.perf_counter() - started:.1f} s")
            settings = build_settings(
                fake, model, Path(tmp), database=str(db), user_cooldown_seconds=0.0
            )
            async with start_bot(fake, settings) as (bot, services):
                bot.add_listener(note_seen, "on_message")
                await services.engine.save_channel(
                    ChannelConfig(
                        channel_id=channel.id, guild_id=guild.id, enabled=True, cast=("narrator",)
                    )
                )
                to_request, bot_part, to_first, to_final = [], [], [], []
                for turn in range(turns + 1):
                    # Players post every few seconds; each turn needs 2 of the 5 writes Discord
                    # allows per 5 s (first text, final edit), plus spare ones for old buttons.
                    await asyncio.sleep(gap)
                    chunks = [f"Beat {turn}.{n} of the tale. " for n in range(6)]
                    before = len(model.requests)
                    sent_at = time.monotonic()
                    said = await fake.user_says(channel.id, alice.id, f"Narrator, go on ({turn}).")
                    final_text = "".join(chunks).rstrip()
                    message = await fake.wait_until(
                        lambda ft=final_text: next(
                            (
                                m
                                for m in fake.messages_in(channel.id)
                                if m.webhook_id and m.content == ft
                            ),
                            None,
                        ),
                        timeout=10,
                    )
                    request = next(r for r in model.requests[before:] if asks_for(r, turn))
                    writes = writes_for(fake, {message.id})
                    final = next(
                        w for w in writes if w.json and w.json.get("content") == final_text
                    )
                    if turn == 0:
                        continue  # warm-up: loads the channel window from the database
                    to_request.append(request.arrived_at - sent_at)
                    bot_part.append(request.arrived_at - SEEN_AT[int(said["id"])])
                    to_first.append(writes[0].at - request.first_token_at)
                    to_final.append(final.at - request.last_token_at)
                summary("MESSAGE_CREATE -> model request", to_request)
                summary("  of which in the bot (on_message ->)", bot_part)
                print("  (the rest is the gateway frame: fake -> websocket -> discord.py parse)")
                summary("first token -> first Discord request", to_first)
                summary("last token -> final text on Discord", to_final)


async def load(channels: int, database: str | None) -> None:
    print(f"\n== {channels} channels streaming at once, Discord rate limit on ==")
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake, FakeModelServer() as model:
            people = populate(fake)
            guild, users = people["guild"], [people["alice"], people["bob"], people["carol"]]
            rooms = [people["channel"]] + [
                fake.add_text_channel(guild.id, f"room-{n}") for n in range(channels - 1)
            ]
            fake.rate_limit(limit=5, window=5.0, headers=True)
            settings = build_settings(fake, model, Path(tmp), user_cooldown_seconds=0.0)
            if database:
                settings = replace_settings(settings, database=database)
            async with start_bot(fake, settings) as (_, services):
                for room in rooms:
                    await services.engine.save_channel(
                        ChannelConfig(
                            channel_id=room.id, guild_id=guild.id, enabled=True, cast=("narrator",)
                        )
                    )
                chunks = [f"word{n} " for n in range(40)]
                final_text = "".join(chunks).rstrip()
                for _ in rooms:
                    model.script(Reply(chunks=chunks, chunk_delay=0.05))
                cpu0, wall0 = time.process_time(), time.monotonic()
                sent: dict[int, float] = {}
                for n, room in enumerate(rooms):
                    sent[room.id] = time.monotonic()
                    await fake.user_says(room.id, users[n % 3].id, f"Narrator, a story ({n}).")

                def done(room_id: int) -> bool:
                    return any(
                        m.webhook_id and m.content == final_text for m in fake.messages_in(room_id)
                    )

                await fake.wait_until(lambda: all(done(r.id) for r in rooms), timeout=120)
                wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
                first_text, final_lag, writes_per_reply = [], [], []
                for n, room in enumerate(rooms):
                    ids = {m.id for m in fake.messages_in(room.id) if m.webhook_id}
                    writes = writes_for(fake, ids)
                    request = next(r for r in model.requests if asks_for(r, n))
                    final = next(
                        w for w in writes if w.json and w.json.get("content") == final_text
                    )
                    first_text.append(writes[0].at - sent[room.id])
                    final_lag.append(final.at - request.last_token_at)
                    writes_per_reply.append(len(writes))
                print(f"  replies complete: {len(rooms)}/{len(rooms)} in {wall:.2f} s wall")
                print(f"  429s served by the fake: {fake.rate_limit_hits}")
                summary("message -> first text (per channel)", first_text)
                summary("last token -> final text (per channel)", final_lag)
                per_reply = cpu / len(rooms) * 1e3
                print(f"  CPU per reply (bot + both fakes, one process): {per_reply:.1f} ms")
                print(
                    f"  Discord writes per reply: median {statistics.median(writes_per_reply)}, "
                    f"max {max(writes_per_reply)}"
                )


async def ingest(messages: int, database: str | None) -> None:
    """Players' messages a process takes in per second (stored, OOC-checked, addressed-checked)."""
    print(f"\n== ingest: {messages} player messages over 10 channels, nobody addressed ==")
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake, FakeModelServer() as model:
            people = populate(fake)
            guild, alice = people["guild"], people["alice"]
            rooms = [people["channel"]] + [
                fake.add_text_channel(guild.id, f"room-{n}") for n in range(9)
            ]
            settings = build_settings(fake, model, Path(tmp), user_cooldown_seconds=0.0)
            if database:
                settings = replace_settings(settings, database=database)
            async with start_bot(fake, settings) as (_, services):
                for room in rooms:
                    await services.engine.save_channel(
                        ChannelConfig(
                            channel_id=room.id, guild_id=guild.id, enabled=True, cast=("vex",)
                        )
                    )
                store = services.store
                before = sum([await store.count_messages(r.id) for r in rooms])
                started = time.monotonic()
                for n in range(messages):
                    room = rooms[n % len(rooms)]
                    await fake.user_says(room.id, alice.id, f"I walk on, step {n}.")

                async def stored() -> int:
                    return sum([await store.count_messages(r.id) for r in rooms]) - before

                while await stored() < messages:
                    await asyncio.sleep(0.01)
                elapsed = time.monotonic() - started
                assert not model.requests
                print(f"  {messages / elapsed:,.0f} messages/s stored ({elapsed:.2f} s)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--gap", type=float, default=2.5, help="seconds between turns")
    parser.add_argument("--ingest", type=int, default=2000, help="messages for the ingest run")
    parser.add_argument("--database", default=None, help="a postgresql:// URL (default SQLite)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)
    await latency(args.history, args.turns, args.gap)
    with contextlib.suppress(KeyboardInterrupt):
        await load(args.channels, args.database)
        await ingest(args.ingest, args.database)


if __name__ == "__main__":
    asyncio.run(main())
