"""The scene runtime without discord.py: a recording port, a real store, the fake model."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.cards import load_personas_dir
from bot.catalog import PersonaCatalog
from bot.engine import ChannelConfig, EngineConfig, IncomingMessage, SceneRuntime
from bot.llm import LLMClient
from bot.memory import MessageRecord, Store, open_store
from tests.engine.recording_port import RecordingPort
from tests.fakes.model_server import FakeModelServer

ROOT = Path(__file__).resolve().parents[2]
GUILD = 111
CHANNEL = 222
ALICE = 333
API_KEY = "test-key"


@dataclass
class Stage:
    """A runtime wired to a recording port, with helpers to drive a scene."""

    runtime: SceneRuntime
    port: RecordingPort
    store: Store
    model: FakeModelServer
    ids: itertools.count

    async def enable(self, cast: tuple[str, ...] = ("narrator",), **fields: object) -> None:
        await self.runtime.configure(
            ChannelConfig(channel_id=CHANNEL, guild_id=GUILD, enabled=True, cast=cast, **fields)
        )

    def line(self, text: str, *, author_id: int = ALICE, name: str = "Alice") -> IncomingMessage:
        return IncomingMessage(
            channel_id=CHANNEL,
            guild_id=GUILD,
            discord_id=next(self.ids),
            author_id=author_id,
            author_name=name,
            text=text,
            created_at=1_700_000_000.0,
        )

    async def say(self, text: str, **kwargs: object) -> IncomingMessage:
        message = self.line(text, **kwargs)  # type: ignore[arg-type]
        await self.runtime.message_arrived(message)
        return message

    async def quiet(self, timeout: float = 10.0) -> None:
        """Wait until no turn is pending, running or streaming in the channel."""
        async with asyncio.timeout(timeout):
            await asyncio.sleep(0.05)
            while self.runtime.is_busy(CHANNEL) or self.runtime.has_pending_turn(CHANNEL):
                await asyncio.sleep(0.01)

    async def memory(self) -> list[MessageRecord]:
        return await self.store.window(CHANNEL, limit=1000)


def engine_config(**overrides: object) -> EngineConfig:
    values: dict[str, object] = {
        "lull_seconds": 0.2,
        "proxy_wait_seconds": 0.2,
        "user_cooldown_seconds": 0.0,
    }
    values.update(overrides)
    return EngineConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def model() -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
async def make_stage(tmp_path: Path, model: FakeModelServer):
    """Build a runtime (several may be built on one database: restarts)."""
    opened: list[tuple[SceneRuntime, Store, httpx.AsyncClient]] = []
    ids = itertools.count(5_000)

    async def build(**overrides: object) -> Stage:
        store = await open_store(str(tmp_path / "memory.sqlite3"))
        http = httpx.AsyncClient()
        llm = LLMClient(
            http,
            provider="openrouter",
            api_key=API_KEY,
            base_url=model.base_url_openrouter,
            max_attempts=1,
        )
        personas = PersonaCatalog(store, load_personas_dir(ROOT / "personas").personas)
        runtime = SceneRuntime(
            store=store, llm=llm, personas=personas, config=engine_config(**overrides)
        )
        port = RecordingPort(ids=ids)
        runtime.attach(port)
        opened.append((runtime, store, http))
        return Stage(runtime, port, store, model, ids)

    yield build
    for runtime, store, http in opened:
        await runtime.shutdown()
        await store.close()
        await http.aclose()


@pytest.fixture
async def stage(make_stage) -> Stage:
    return await make_stage()
