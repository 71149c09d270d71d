"""Backoff arithmetic and `Retry-After` parsing for retries before the first token."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime


def backoff_delay(attempt: int, *, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    Exponential with "equal jitter": the ceiling doubles per attempt up to `cap`, and the
    wait is drawn from [ceiling / 2, ceiling) so retries of many channels spread out.
    """
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    return ceiling / 2 + rng() * ceiling / 2


def parse_retry_after(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds from `Retry-After` (delta-seconds or an HTTP date) or `retry-after-ms`.

    `now` is the wall-clock time (epoch seconds) used for the HTTP-date form.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _number(millis)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
