"""Gateway control, fault injection and clock knobs of FakeDiscord."""

from __future__ import annotations

from .base import FakeBase
from .faults import FailRule, LatencyRule
from .ratelimit import RateLimitConfig


class ControlsMixin(FakeBase):
    """Knobs that make Discord misbehave on purpose."""

    async def reconnect(self, session_id: str | None = None) -> None:
        """Ask connected sessions (or one) to reconnect with op 7; discord.py will RESUME."""
        self._core.hub.reconnect(session_id)
        await self._core.hub.drain()

    async def invalidate_session(
        self, session_id: str | None = None, *, resumable: bool = False
    ) -> None:
        """Send op 9; discord.py re-IDENTIFYs after `before_identify_hook` (5 s by default)."""
        self._core.hub.invalidate(session_id, resumable=resumable)
        await self._core.hub.drain()

    async def close_gateway(self, code: int = 4000, session_id: str | None = None) -> None:
        """Close websockets with `code` (4000 → discord.py resumes; 4004/4014... are fatal)."""
        self._core.hub.close(code, session_id)
        await self._core.hub.drain()

    async def gateway_down(self) -> None:
        """Take the gateway down: close every websocket (4000) and refuse new ones (503).

        discord.py keeps retrying with backoff; REST keeps working. Undo with `gateway_up()`.
        """
        self._core.hub.accepting = False
        self._core.hub.close(4000, message="gateway down")
        await self._core.hub.drain()

    def gateway_up(self) -> None:
        """Accept gateway connections again (discord.py resumes on its next retry)."""
        self._core.hub.accepting = True

    def fail_next(
        self,
        method: str | None,
        path_glob: str,
        status: int,
        code: int | None = None,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: float = 0.05,
    ) -> None:
        """Answer the next `times` matching requests with `status`/`code` instead of handling them.

        `path_glob` matches the path below the API base (fnmatch: `*` crosses `/`), e.g.
        `/channels/*/messages`. 429s carry `Via` + `retry_after` so discord.py retries.
        """
        self._core.faults.failures.append(
            FailRule(method, path_glob, status, code, message, times, retry_after)
        )

    def latency(self, seconds: float, path_glob: str = "*", *, method: str | None = None) -> None:
        """Delay matching requests by `seconds` (0 removes the delay for that glob)."""
        faults = self._core.faults
        faults.latencies = [
            r for r in faults.latencies if (r.path_glob, r.method) != (path_glob, method)
        ]
        if seconds > 0:
            faults.latencies.append(LatencyRule(seconds, path_glob, method))

    def rate_limit(
        self,
        *,
        limit: int = 5,
        window: float = 5.0,
        headers: bool = True,
        interactions: bool = True,
        webhook_channel_limit: int = 0,
        webhook_channel_window: float = 60.0,
    ) -> None:
        """Turn on the per-channel message limit (`headers=False`: surprise 429s).

        `webhook_channel_limit` > 0 adds Discord's hidden per-channel webhook limit: at most that
        many webhook executes/edits into one channel in any `webhook_channel_window` seconds,
        enforced with surprise 429s that no X-RateLimit-* header announces.
        """
        self._core.limiter.configure(
            RateLimitConfig(
                enabled=True,
                limit=limit,
                window=window,
                headers=headers,
                interactions=interactions,
                webhook_channel_limit=webhook_channel_limit,
                webhook_channel_window=webhook_channel_window,
            )
        )

    def rate_limit_off(self) -> None:
        """Turn the message limit off (the default)."""
        self._core.limiter.configure(RateLimitConfig())

    @property
    def rate_limit_hits(self) -> int:
        """How many 429s the rate limit emulation served (injected 429s not included)."""
        return self._core.limiter.hits

    def clock(self) -> float:
        """The interaction-deadline clock: monotonic time plus `advance_clock` offsets."""
        return self._core.clock()

    def advance_clock(self, seconds: float) -> None:
        """Jump the interaction clock (3.1 s misses the ack, 901 s expires tokens)."""
        self._core.clock_offset += seconds
