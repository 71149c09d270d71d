"""Per-channel message rate limit emulation with real X-RateLimit-* headers or surprise 429s.

Optionally also Discord's hidden per-channel webhook limit (about 30 per 60 s): a sliding window
over webhook executes and edits that no X-RateLimit-* header announces.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

BUCKET_HASH = "f4k3c4a77e1b0c4e7d5a9e2c6b1d3f80"
"""One bucket hash for every limited route, so discord.py shares one bucket per channel."""


@dataclass
class RateLimitConfig:
    """How the emulated limit behaves; `enabled` is False by default (see the manual)."""

    enabled: bool = False
    limit: int = 5
    window: float = 5.0
    headers: bool = True
    """Send X-RateLimit-* headers (discord.py waits pre-emptively); False = surprise 429s."""
    interactions: bool = True
    """Count interaction webhook writes (followups, @original edits) in the channel's bucket."""
    webhook_channel_limit: int = 0
    """Hidden limit on webhook executes/edits per channel per `webhook_channel_window`; 0 = off."""
    webhook_channel_window: float = 60.0
    """Seconds of the hidden window (sliding: any span this long holds at most the limit)."""


@dataclass(frozen=True)
class Verdict:
    """The limiter's answer for one request."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float = 0.0


@dataclass
class _Window:
    started: float
    count: int = 0


class RateLimiter:
    """Fixed windows per bucket key (e.g. `channel:123`), opened by the first request."""

    def __init__(self) -> None:
        self.config = RateLimitConfig()
        self.hits = 0
        """How many 429s the limiter has served."""
        self._windows: dict[str, _Window] = {}
        self._hidden: dict[str, deque[float]] = {}

    def configure(self, config: RateLimitConfig) -> None:
        """Replace the configuration and forget open windows."""
        self.config = config
        self._windows.clear()
        self._hidden.clear()

    def check_hidden(self, key: str) -> Verdict:
        """Check the hidden webhook limit for `key` without counting the request.

        Allowed verdicts carry no headers. A 429 carries only what Discord sends with any 429
        (`Retry-After`, `Via`, `X-RateLimit-Scope`), never X-RateLimit-Limit/Remaining/Bucket,
        and counts in `hits`. Call `count_hidden` once the request is accepted.
        """
        cfg = self.config
        if cfg.webhook_channel_limit <= 0 or cfg.webhook_channel_window <= 0:
            return Verdict(True)
        now = time.monotonic()
        events = self._hidden_events(key, now)
        if len(events) < cfg.webhook_channel_limit:
            return Verdict(True)
        self.hits += 1
        retry_after = max(events[0] + cfg.webhook_channel_window - now, 0.001)
        after = math.ceil(retry_after * 1000) / 1000
        headers = {
            "Retry-After": str(max(math.ceil(after), 1)),
            "Via": "1.1 google",
            "X-RateLimit-Scope": "user",
        }
        return Verdict(False, headers, after)

    def count_hidden(self, key: str) -> None:
        """Record one accepted webhook write against the hidden limit for `key`."""
        cfg = self.config
        if cfg.webhook_channel_limit <= 0 or cfg.webhook_channel_window <= 0:
            return
        now = time.monotonic()
        self._hidden_events(key, now).append(now)

    def _hidden_events(self, key: str, now: float) -> deque[float]:
        events = self._hidden.setdefault(key, deque())
        horizon = now - self.config.webhook_channel_window
        while events and events[0] <= horizon:
            events.popleft()
        return events

    def check(self, key: str) -> Verdict:
        """Count one request against `key`; allowed, or a 429 with `retry_after`."""
        cfg = self.config
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None or now >= window.started + cfg.window:
            window = self._windows[key] = _Window(started=now)
        reset_after = max(window.started + cfg.window - now, 0.0)
        if window.count >= cfg.limit:
            self.hits += 1
            return Verdict(False, self._headers(0, reset_after, limited=True), reset_after)
        window.count += 1
        return Verdict(True, self._headers(cfg.limit - window.count, reset_after, limited=False))

    def _headers(self, remaining: int, reset_after: float, *, limited: bool) -> dict[str, str]:
        # Round up so a client that waits exactly Reset-After never arrives early, but
        # never past the window itself: float noise can make `reset_after` a hair
        # above it (0.15 * 1000 == 150.00000000000003), and real Discord never
        # reports a reset further out than the bucket's window.
        after = min(math.ceil(reset_after * 1000) / 1000, self.config.window)
        headers: dict[str, str] = {}
        if self.config.headers:
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.config.limit),
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Reset": f"{time.time() + after:.3f}",
                    "X-RateLimit-Reset-After": f"{after:.3f}",
                    "X-RateLimit-Bucket": BUCKET_HASH,
                }
            )
        if limited:
            headers.update(
                {
                    "Retry-After": str(max(math.ceil(after), 1)),
                    "Via": "1.1 google",
                    "X-RateLimit-Scope": "user",
                }
            )
        return headers
