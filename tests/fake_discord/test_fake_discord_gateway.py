"""Gateway behaviour: RECONNECT/RESUME with replay, close codes, and sharding."""

from __future__ import annotations

import asyncio

import discord
from discord.ext import commands

from tests.fakes.discord import FakeDiscord, running


async def test_reconnect_resumes_and_replays_missed_events(fake, seed, make_bot):
    bot = make_bot()
    resumed = asyncio.Event()
    contents: list[str] = []

    async def on_resumed() -> None:
        resumed.set()

    async def on_message(message: discord.Message) -> None:
        contents.append(message.content)

    bot.add_listener(on_resumed)
    bot.add_listener(on_message)
    async with running(fake, bot):
        session = fake.sessions[0]
        await fake.reconnect()
        # Dispatched while the client is away: buffered, then replayed on RESUME.
        await fake.user_says(seed.channel.id, seed.alice.id, "while you were out")
        await asyncio.wait_for(resumed.wait(), 2)
        await fake.user_says(seed.channel.id, seed.alice.id, "welcome back")
        await fake.wait_until(lambda: len(contents) == 2)
        assert contents == ["while you were out", "welcome back"]
        assert session.resumes == 1 and len(fake.sessions) == 1
        assert fake.gateway_frames_received(op=6)[0]["d"]["session_id"] == session.id


async def test_close_4000_resumes_and_fatal_close_stops_the_client(fake, seed, make_bot):
    bot = make_bot()
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed)
    async with running(fake, bot):
        await fake.close_gateway(4000)
        await asyncio.wait_for(resumed.wait(), 2)
        await fake.close_gateway(4004)
        await fake.wait_until(bot.is_closed, timeout=2)


class QuickBot(commands.Bot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py sleeps 5 s before a non-initial IDENTIFY by default


async def test_invalid_session_makes_the_client_identify_again(fake, seed, make_bot):
    bot = make_bot(cls=QuickBot)
    readies: list[str] = []

    async def on_ready() -> None:
        readies.append("ready")

    bot.add_listener(on_ready)
    async with running(fake, bot):
        first = fake.sessions[0]
        await fake.invalidate_session()
        await fake.wait_until(lambda: len(readies) == 2)
        assert first.invalidated and len(fake.sessions) == 2
        assert fake.sessions[1].connected


async def test_heartbeats_are_acked(make_bot):
    async with FakeDiscord(heartbeat_interval_ms=50) as fake:
        fake.seed()
        bot = make_bot()
        async with running(fake, bot):
            await fake.wait_until(lambda: len(fake.gateway_frames_received(op=1)) >= 3, 2)
            assert bot.latency < 1.0


class QuickShardedBot(commands.AutoShardedBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py sleeps 5 s between shards by default


async def test_auto_sharded_bot_gets_each_guild_once_on_its_shard(make_bot):
    async with FakeDiscord(shard_count=2) as fake:
        even = fake.add_guild("Even", shard=(0, 2))
        odd = fake.add_guild("Odd", shard=(1, 2))
        even_channel = fake.add_text_channel(even.id, "general")
        odd_channel = fake.add_text_channel(odd.id, "general")
        alice = fake.add_user("alice", guild_id=even.id)
        fake.add_member(odd.id, alice.id)
        bot = make_bot(cls=QuickShardedBot)
        seen: list[tuple[int | None, int]] = []

        async def on_message(message: discord.Message) -> None:
            seen.append((message.guild.shard_id, message.guild.id))

        bot.add_listener(on_message)
        async with running(fake, bot):
            assert bot.shard_count == 2
            assert {g.id for g in bot.guilds} == {even.id, odd.id}
            assert bot.get_guild(even.id).shard_id == 0
            assert bot.get_guild(odd.id).shard_id == 1
            creates = fake.dispatched("GUILD_CREATE")
            assert sorted((e.shard, int(e.data["id"])) for e in creates) == sorted(
                [((0, 2), even.id), ((1, 2), odd.id)]
            )
            await fake.user_says(even_channel.id, alice.id, "even")
            await fake.user_says(odd_channel.id, alice.id, "odd")
            await fake.wait_until(lambda: len(seen) == 2)
            assert sorted(seen) == [(0, even.id), (1, odd.id)]
            per_shard = {e.shard: e.data["content"] for e in fake.dispatched("MESSAGE_CREATE")}
            assert per_shard == {(0, 2): "even", (1, 2): "odd"}
            assert fake.requests("GET", "/gateway/bot")[0].response["shards"] == 2


async def test_two_clients_can_connect_at_once(fake, seed, make_bot):
    first, second = make_bot(), make_bot()
    async with running(fake, first), running(fake, second):
        await fake.wait_for_sessions(2)
        delivered = await fake.push(
            "TYPING_START",
            {
                "channel_id": str(seed.channel.id),
                "user_id": str(seed.bob.id),
                "timestamp": 0,
                "guild_id": str(seed.guild.id),
            },
            guild_id=seed.guild.id,
        )
        assert delivered == 2
