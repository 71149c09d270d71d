"""`Loader`: one load per key however many callers ask at once; forgetting and expiry."""

from __future__ import annotations

import asyncio

import pytest

from bot.once import Loader


class Source:
    """A slow source that counts its reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.value = "v1"
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def read(self) -> str:
        self.reads += 1
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return self.value


async def test_a_hundred_callers_at_once_cause_one_read() -> None:
    loader: Loader[int, str] = Loader()
    source = Source()
    source.gate.clear()
    waiting = [asyncio.create_task(loader.get(1, source.read)) for _ in range(100)]
    await asyncio.sleep(0)
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["v1"] * 100
    assert source.reads == 1
    assert await loader.get(1, source.read) == "v1" and source.reads == 1


async def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    loader: Loader[int, str] = Loader()
    source = Source()
    source.gate.clear()
    source.fail = RuntimeError("database locked")
    waiting = [asyncio.create_task(loader.get(1, source.read)) for _ in range(3)]
    await asyncio.sleep(0)
    source.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    source.fail = None
    assert await loader.get(1, source.read) == "v1"
    assert source.reads == 2


async def test_a_value_forgotten_while_loading_is_not_kept() -> None:
    loader: Loader[int, str] = Loader()
    source = Source()
    source.gate.clear()
    first = asyncio.create_task(loader.get(1, source.read))
    await asyncio.sleep(0)
    loader.forget(1)  # a write happened meanwhile: what the load read may be stale
    source.value = "v2"
    source.gate.set()
    await first
    assert await loader.get(1, source.read) == "v2"


async def test_a_value_put_while_loading_wins_over_the_stale_load() -> None:
    loader: Loader[int, str] = Loader()
    source = Source()
    source.gate.clear()
    first = asyncio.create_task(loader.get(1, source.read))
    await asyncio.sleep(0)
    loader.put(1, "v2")  # a write that knows the new value; the load read the old one
    source.gate.set()
    assert await first == "v1"  # the caller gets what it read
    assert await loader.get(1, source.read) == "v2"
    assert source.reads == 1


async def test_when_the_loading_caller_is_cancelled_a_waiter_loads_instead() -> None:
    loader: Loader[int, str] = Loader()
    source = Source()
    source.gate.clear()
    first = asyncio.create_task(loader.get(1, source.read))
    await asyncio.sleep(0)
    second = asyncio.create_task(loader.get(1, source.read))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    source.gate.set()
    assert await second == "v1"
    assert source.reads == 2


async def test_values_expire_after_their_ttl_and_put_refreshes_them() -> None:
    now = [0.0]
    loader: Loader[str, str] = Loader(ttl=30.0, clock=lambda: now[0])
    source = Source()
    assert await loader.get("guild", source.read) == "v1"
    now[0] = 29.0
    source.value = "v2"
    assert await loader.get("guild", source.read) == "v1"  # still fresh
    now[0] = 31.0
    assert await loader.get("guild", source.read) == "v2"
    loader.put("guild", "written")
    now[0] = 50.0
    assert await loader.get("guild", source.read) == "written"
    loader.forget_where(lambda key: key == "guild")
    assert not loader.cached("guild")
