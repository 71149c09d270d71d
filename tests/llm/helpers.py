"""Shared helpers for the model client tests (plain functions, no fixtures)."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

import httpx

from bot.llm import ChatResult, LLMClient, LLMError, Provider, SamplingParams, StreamItem
from tests.fakes.model_server import FakeModelServer

API_KEY = "sk-or-v1-test-0123456789abcdef"
MESSAGES = [
    {"role": "system", "name": "Mira", "content": "You are Mira, a tavern keeper."},
    {"role": "user", "name": "Alice", "content": "A mug of cider, please."},
]


class FakeClock:
    """Monotonic clock and sleep that record waits instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(
    http: httpx.AsyncClient, fm: FakeModelServer, provider: Provider, **kwargs: object
) -> LLMClient:
    base = fm.base_url_openrouter if provider == "openrouter" else fm.base_url_minimax
    options: dict[str, object] = {"api_key": API_KEY, "base_url": base, "rng": lambda: 0.5}
    options.update(kwargs)
    return LLMClient(http, provider=provider, **options)  # type: ignore[arg-type]


async def collect(
    stream: AsyncIterator[StreamItem], timeout: float = 5.0
) -> tuple[list[str], ChatResult | None, LLMError | None]:
    """Deltas, the result and the error of a stream (the stream must end within `timeout`)."""
    deltas: list[str] = []
    result: ChatResult | None = None
    error: LLMError | None = None
    async with asyncio.timeout(timeout):
        try:
            async for item in stream:
                if isinstance(item, str):
                    deltas.append(item)
                else:
                    assert result is None, "more than one ChatResult"
                    result = item
        except LLMError as exc:
            error = exc
    return deltas, result, error


def chat(
    client: LLMClient, params: SamplingParams | None = None
) -> AsyncGenerator[StreamItem, None]:
    return client.stream_chat(MESSAGES, params or SamplingParams())  # type: ignore[arg-type]
