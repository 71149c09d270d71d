"""One turn per channel across processes: a renewed lease row in the shared database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.engine.memory import ChannelMemory

TURN_LEASE_TTL = 30.0
"""Seconds a channel's turn lease lasts unless renewed (a crashed holder frees it after this)."""
TURN_LEASE_WAIT = 120.0


class TurnLeases(ChannelMemory):
    """Serialises a channel's turns between processes that share one memory."""

    @asynccontextmanager
    async def exclusive_turn(self, channel_id: int) -> AsyncIterator[None]:
        """Hold the channel's turn across processes (a lease row in the shared database).

        Without a shared store the caller's in-process lock is enough and this costs nothing.
        While held, the lease is renewed; a crashed holder frees it after TURN_LEASE_TTL.
        """
        if not self.config.shared_store:
            yield
            return
        name = f"turn:{channel_id}"
        waited = 0.0
        while not await self.store.try_acquire_lease(name, self.holder, TURN_LEASE_TTL):
            if waited >= TURN_LEASE_WAIT:
                raise TimeoutError(f"channel {channel_id} stayed busy in another process")
            await asyncio.sleep(0.1)
            waited += 0.1
        renewing = asyncio.create_task(self._renew_lease(name))
        try:
            await self._catch_up(channel_id)
            yield
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await self.store.release_lease(name, self.holder)

    async def _renew_lease(self, name: str) -> None:
        while True:
            await asyncio.sleep(TURN_LEASE_TTL / 3)
            await self.store.renew_lease(name, self.holder, TURN_LEASE_TTL)

    async def _catch_up(self, channel_id: int) -> None:
        """Another process may have written to the channel: reload what we cached if so."""
        window = self._windows.get(channel_id)
        latest = await self.store.latest_id(channel_id)
        if window is not None and (window.rows[-1][0] if window.rows else None) != latest:
            self.invalidate_channel(channel_id)
