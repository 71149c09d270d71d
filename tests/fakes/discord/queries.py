"""Query helpers of FakeDiscord: recorded requests, messages, dispatches and waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .base import FakeBase
from .gateway import GatewaySession, SentEvent
from .recording import RecordedRequest, RequestPredicate
from .world import StoredMessage

_POLL_INTERVAL = 0.01


class QueriesMixin(FakeBase):
    """Read what happened, or wait until it does."""

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of requests the fake itself crashed on (answered 400, code -1)."""
        return list(self._core.internal_errors)

    def requests(
        self, method: str | None = None, path_glob: str | None = None, *, status: int | None = None
    ) -> list[RecordedRequest]:
        """Recorded HTTP requests, oldest first, filtered by method/path glob/status."""
        return self._core.recorder.select(method, path_glob, status)

    def messages_in(self, channel_id: int) -> list[StoredMessage]:
        """Live messages in a channel or thread, oldest first (ephemeral ones included)."""
        return self.world.live_messages(channel_id)

    def last_message(self, channel_id: int) -> StoredMessage | None:
        """The newest live message in a channel, if any."""
        messages = self.world.live_messages(channel_id)
        return messages[-1] if messages else None

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Re-check `predicate` on every change (and every 10 ms) until truthy; return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"condition not met within {timeout}s; recent requests:\n"
                    + self._core.recorder.describe_recent()
                )
            await self._core.recorder.wait_changed(min(_POLL_INTERVAL, remaining))

    async def wait_for_request(
        self,
        predicate: RequestPredicate | None = None,
        *,
        method: str | None = None,
        path_glob: str | None = None,
        status: int | None = None,
        timeout: float = 5.0,
    ) -> RecordedRequest:
        """The first recorded request (past or future) matching the filters and `predicate`."""

        def first() -> RecordedRequest | None:
            for record in self._core.recorder.select(method, path_glob, status):
                if predicate is None or predicate(record):
                    return record
            return None

        found: RecordedRequest = await self.wait_until(first, timeout)
        return found

    @property
    def sessions(self) -> list[GatewaySession]:
        """All gateway sessions ever identified."""
        return list(self._core.hub.sessions.values())

    async def wait_for_sessions(self, count: int, timeout: float = 5.0) -> list[GatewaySession]:
        """Wait until `count` sessions are connected."""
        await self.wait_until(
            lambda: len([s for s in self.sessions if s.connected]) >= count, timeout
        )
        return [s for s in self.sessions if s.connected]

    def dispatched(
        self, event: str | None = None, *, session_id: str | None = None
    ) -> list[SentEvent]:
        """Dispatches as each session received them (after shard/intent filtering)."""
        return [
            e
            for e in self._core.hub.sent
            if (event is None or e.event == event)
            and (session_id is None or e.session_id == session_id)
        ]

    def gateway_frames_received(self, op: int | None = None) -> list[dict[str, Any]]:
        """Frames clients sent to the gateway (heartbeats, IDENTIFY, RESUME...)."""
        return [f for f in self._core.hub.received if op is None or f.get("op") == op]
