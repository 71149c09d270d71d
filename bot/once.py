"""A cache that loads each key once, even when many turns ask for it at the same moment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loader(Generic[K, V]):
    """Values by key, each loaded by one call however many callers wait for it.

    A hundred channels starting at once would otherwise send a hundred identical queries for
    the same guild's settings before the first answer comes back. `ttl` (seconds) bounds how
    stale a value may get when other processes can change it; None keeps it until `forget`.
    """

    def __init__(
        self, *, ttl: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._values: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}

    def cached(self, key: K) -> bool:
        """Whether a fresh value is held for `key`."""
        held = self._values.get(key)
        return held is not None and (self._ttl is None or self._clock() - held[0] < self._ttl)

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The value for `key`, loading it (once) if it is not held.

        Callers waiting on another's load share its result or its error; if that caller was
        cancelled, the next in line loads it anew.
        """
        while True:
            if self.cached(key):
                return self._values[key][1]
            pending = self._loading.get(key)
            if pending is None:
                return await self._load(key, load)
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: the waiters re-raise it, nobody must log it
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            current = self._loading.get(key) is future
            if current:
                del self._loading[key]
        if current:  # not forgotten while it loaded: what it read may be kept
            self._values[key] = (self._clock(), value)
        future.set_result(value)
        return value

    def put(self, key: K, value: V) -> None:
        """Hold `value` for `key` (after a write that knows the new value); a load in flight
        for it read the old value and is not kept.
        """
        self._values[key] = (self._clock(), value)
        self._loading.pop(key, None)

    def forget(self, key: K) -> None:
        """Drop `key` (it changed); a load in flight for it is not used by later callers."""
        self._values.pop(key, None)
        self._loading.pop(key, None)

    def forget_where(self, stale: Callable[[K], bool]) -> None:
        """Drop every key for which `stale(key)` is true."""
        for key in [k for k in self._values if stale(k)]:
            del self._values[key]
        for key in [k for k in self._loading if stale(k)]:
            del self._loading[key]

    def clear(self) -> None:
        """Drop everything."""
        self._values.clear()
        self._loading.clear()
