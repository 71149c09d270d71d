"""Time-based Discord snowflakes and the ISO timestamps derived from them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000
_WORKER_ID = 1
_PROCESS_ID = 0
_MAX_INCREMENT = 0xFFF


def snowflake_ms(snowflake: int) -> int:
    """Unix milliseconds encoded in a snowflake."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def snowflake_iso(snowflake: int) -> str:
    """ISO-8601 timestamp (UTC) of a snowflake, as Discord formats message timestamps."""
    return datetime.fromtimestamp(snowflake_ms(snowflake) / 1000, UTC).isoformat()


def now_iso() -> str:
    """The current time as a Discord ISO-8601 timestamp."""
    return datetime.now(UTC).isoformat()


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events (Discord's sharding formula)."""
    return (guild_id >> 22) % shard_count


class SnowflakeFactory:
    """Hands out unique, strictly increasing snowflakes stamped with the current time."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._increment = 0

    def next(self, *, shard: tuple[int, int] | None = None) -> int:
        """A new snowflake; with `shard=(id, count)` its timestamp is nudged onto that shard."""
        ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms)
        if shard is not None:
            shard_id, shard_count = shard
            while ms % shard_count != shard_id:
                ms += 1
        if ms == self._last_ms:
            self._increment += 1
            if self._increment > _MAX_INCREMENT:
                ms += 1 if shard is None else shard[1]
                self._increment = 0
        else:
            self._increment = 0
        self._last_ms = ms
        return (ms << 22) | (_WORKER_ID << 17) | (_PROCESS_ID << 12) | self._increment
