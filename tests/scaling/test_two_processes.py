"""Several bot processes, one PostgreSQL memory: shards split the guilds, each message is
answered exactly once, and memory written by one process is read by another after a restart.

The bots are real `python -m bot` processes configured only through environment variables;
the fake Discord (2 shards) and the fake model server run in the test process.
"""

import asyncio
import contextlib
import os
import sys
from pathlib import Path

import pytest

from bot.memory import ChannelConfig, open_store
from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer, Reply
from tests.memory.postgres_server import fresh_schema, postgres_url

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0


class BotProcess:
    """One `python -m bot` child process and what it logged."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path) -> None:
        self.name, self.env, self.cwd = name, env, cwd
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    async def wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        while not any("Ready as" in line for line in self.lines):
            assert self.proc is not None
            if self.proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                log = "\n".join(self.lines[-30:])
                raise AssertionError(f"{self.name} did not become ready:\n{log}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)


def bot_env(
    fake: FakeDiscord, model: FakeModelServer, database: str, shards: str
) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "LLM_"))}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "LLM_API_KEY": model.api_key,
        "LLM_BASE_URL": model.base_url_openrouter,
        "DATABASE": database,
        "PERSONAS_DIR": str(ROOT / "personas"),
        "SHARD_COUNT": "2",
        "SHARD_IDS": shards,
        "USER_COOLDOWN_SECONDS": "0",
        "LOG_LEVEL": "INFO",
    }


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
