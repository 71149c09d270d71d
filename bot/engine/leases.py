"""One turn per channel across processes: a renewed lease row in the shared database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.engine.memory import SceneMemory

TURN_LEASE_TTL = 30.0
"""Seconds a channel's turn lease lasts unless renewed (a crashed holder frees it after this)."""
TURN_LEASE_WAIT = 120.0


class TurnLeases:
    """Serialises a channel's turns between processes that share one memory."""

    def __init__(self, memory: SceneMemory, *, shared: bool) -> None:
        self._memory = memory
        self._shared = shared

    @asynccontextmanager
    async def exclusive(self, channel_id: int) -> AsyncIterator[None]:
        """Hold the channel's turn across processes (a lease row in the shared database).

        Without a shared store the caller's in-process lock is enough and this costs nothing.
        While held, the lease is renewed; a crashed holder frees it after TURN_LEASE_TTL.
        """
        if not self._shared:
            yield
            return
        store, holder = self._memory.store, self._memory.holder
        name = f"turn:{channel_id}"
        waited = 0.0
        while not await store.try_acquire_lease(name, holder, TURN_LEASE_TTL):
            if waited >= TURN_LEASE_WAIT:
                raise TimeoutError(f"channel {channel_id} stayed busy in another process")
            await asyncio.sleep(0.1)
            waited += 0.1
        renewing = asyncio.create_task(self._renew(name))
        try:
            await self._memory.catch_up(channel_id)
            yield
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await store.release_lease(name, holder)

    async def try_exclusive(self, channel_id: int) -> bool:
        """Take the channel's turn only if nobody holds it (for recovery); release with
        `release`. Always true without a shared store.
        """
        if not self._shared:
            return True
        return await self._memory.store.try_acquire_lease(
            f"turn:{channel_id}", self._memory.holder, TURN_LEASE_TTL
        )

    async def release(self, channel_id: int) -> None:
        """Give back a turn taken with `try_exclusive`."""
        if self._shared:
            await self._memory.store.release_lease(f"turn:{channel_id}", self._memory.holder)

    async def _renew(self, name: str) -> None:
        store, holder = self._memory.store, self._memory.holder
        while True:
            await asyncio.sleep(TURN_LEASE_TTL / 3)
            await store.renew_lease(name, holder, TURN_LEASE_TTL)
