"""Several bot processes, one PostgreSQL memory: shards split the guilds, each message is
answered exactly once, and memory written by one process is read by another after a restart.

The bots are real `python -m bot` processes configured only through environment variables;
the fake Discord (2 shards) and the fake model server run in the test process.
"""

import asyncio

import pytest

from bot.memory import ChannelConfig, open_store
from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer, Reply
from tests.memory.postgres_server import fresh_schema, postgres_url
from tests.processes import BotProcess, bot_env


def persona_lines(fake: FakeDiscord, channel_id: int) -> list[str]:
    return [m.content for m in fake.messages_in(channel_id) if m.webhook_id is not None]


@pytest.fixture
async def database(tmp_path):
    async with fresh_schema(postgres_url()) as url:
        yield url


@pytest.mark.postgres
async def test_shards_split_guilds_answer_once_and_share_memory(tmp_path, database):
    async with FakeDiscord(shard_count=2) as fake, FakeModelServer() as model:
        owner = fake.add_user("owner")
        guilds, channels, players = [], [], []
        for shard in (0, 1):
            guild = fake.add_guild(f"Guild {shard}", owner_id=owner.id, shard=(shard, 2))
            channels.append(fake.add_text_channel(guild.id, "tavern"))
            players.append(fake.add_user(f"player{shard}", guild_id=guild.id))
            guilds.append(guild)
        store = await open_store(database)
        async with store:
            for guild, channel in zip(guilds, channels, strict=True):
                await store.save_channel(
                    ChannelConfig(
                        channel_id=channel.id, guild_id=guild.id, enabled=True, cast=("narrator",)
                    )
                )
        # Shard 0 runs twice (a mistaken deployment): the database must still keep one reply.
        processes = [
            BotProcess(name, bot_env(fake, model, database, shards), tmp_path)
            for name, shards in (("a", "[0]"), ("b", "[1]"), ("c", "[0]"))
        ]
        try:
            for process in processes:
                await process.start()
            for process in processes:
                await process.wait_ready()

            model.script(Reply(text="Zero answered."), Reply(text="One answered."))
            await fake.user_says(channels[0].id, players[0].id, "Narrator, hello from zero")
            await fake.wait_until(lambda: "Zero answered." in persona_lines(fake, channels[0].id))
            await fake.user_says(channels[1].id, players[1].id, "Narrator, hello from one")
            await fake.wait_until(lambda: "One answered." in persona_lines(fake, channels[1].id))
            await asyncio.sleep(1.5)  # time for a duplicate answer to show up, if any
            assert persona_lines(fake, channels[0].id) == ["Zero answered."]
            assert persona_lines(fake, channels[1].id) == ["One answered."]
            assert len(model.requests) == 2

            # Restart shard 0 in a fresh process: it reads the memory the others wrote.
            await processes[0].stop()
            await processes[2].stop()
            restarted = BotProcess("d", bot_env(fake, model, database, "[0]"), tmp_path)
            processes.append(restarted)
            await restarted.start()
            await restarted.wait_ready()
            model.script(Reply(text="You said hello."))
            await fake.user_says(channels[0].id, players[0].id, "Narrator, what did I say?")
            await fake.wait_until(lambda: "You said hello." in persona_lines(fake, channels[0].id))
            history = [m["content"] for m in model.requests[-1].body["messages"]]
            assert "Narrator, hello from zero" in history
            assert "Zero answered." in history
        finally:
            for process in processes:
                await process.stop()
                print("=====", process.name, *process.lines[-25:], sep="\n")
