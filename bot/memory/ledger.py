"""The usage ledger, leases for cross-process single-flight, and small runtime state."""

from __future__ import annotations

from typing import Any

from bot.memory.backend import StoreBase, upsert
from bot.memory.records import UsageRecord, UsageReport, UsageTotals
from bot.pricing import resolve_cost

# SUM over BIGINT is NUMERIC in PostgreSQL; cast back so totals are ints on both backends.
_TOTALS = (
    "COUNT(*), CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), "
    "CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT), "
    "CAST(COALESCE(SUM(cached_tokens), 0) AS BIGINT), COALESCE(SUM(cost_usd), 0.0)"
)


_INSERT_USAGE = """
INSERT INTO usage_ledger (guild_id, channel_id, user_id, persona_id, prompt_tokens,
                          completion_tokens, cached_tokens, cost_usd, created_at, flags)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""

# Take the lease if nobody has it, it has expired, or we already hold it; otherwise the
# conflict update's WHERE fails and no row comes back. The conflicting row is locked, so
# two processes racing for one lease are decided one after the other.
_ACQUIRE = """
INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at <= $4
RETURNING 1
"""

_SET_STATE = upsert("runtime_state", "key value updated_at", "key")


class LedgerMixin(StoreBase):
    """Recording and reporting model usage; leases; runtime state.

    A lease is a row with an expiry, not an advisory lock (which would pin a pooled
    connection and die with it); an atomic upsert decides who wins. Expiry is judged by the
    store's clock: machines sharing a database keep their clocks in sync (NTP).
    """

    async def record_usage(self, record: UsageRecord) -> None:
        """Add one request to the ledger, priced from M2-her's list when `cost_usd` is None."""
        cost = resolve_cost(
            record.cost_usd, record.prompt_tokens, record.completion_tokens, record.cached_tokens
        )
        await self._value(
            _INSERT_USAGE,
            record.guild_id, record.channel_id, record.user_id, record.persona_id,
            record.prompt_tokens, record.completion_tokens, record.cached_tokens, cost,
            self._clock() if record.created_at is None else record.created_at, record.flags,
        )  # fmt: skip

    async def usage_report(self, guild_id: int, since: float | None = None) -> UsageReport:
        """A guild's usage since a time (or ever), in total and per channel, user and persona."""
        where = "guild_id = $1" if since is None else "guild_id = $1 AND created_at >= $2"
        params = (guild_id,) if since is None else (guild_id, since)
        async with self._db.connection() as conn:
            total = await conn.fetchrow(
                f"SELECT {_TOTALS} FROM usage_ledger WHERE {where}", *params
            )
            by: dict[str, dict[Any, UsageTotals]] = {}
            for column in ("channel_id", "user_id", "persona_id"):
                sql = (
                    f"SELECT {column}, {_TOTALS} FROM usage_ledger WHERE {where} GROUP BY {column}"
                )
                by[column] = {
                    row[0]: UsageTotals(*row[1:]) for row in await conn.fetch(sql, *params)
                }
        assert total is not None
        return UsageReport(
            guild_id, since, UsageTotals(*total), by["channel_id"], by["user_id"], by["persona_id"]
        )

    async def spent_usd(self, guild_id: int, since: float, user_id: int | None = None) -> float:
        """Dollars a guild (or one user in it) has spent since a time."""
        sql = "SELECT COALESCE(SUM(cost_usd), 0.0) FROM usage_ledger WHERE guild_id = $1"
        if user_id is None:
            return float(await self._value(f"{sql} AND created_at >= $2", guild_id, since))
        sql += " AND user_id = $2 AND created_at >= $3"
        return float(await self._value(sql, guild_id, user_id, since))

    # Leases: cross-process single-flight

    async def try_acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take a named lease for `ttl_s` seconds if it is free, expired, or already ours."""
        now = self._clock()
        return await self._row(_ACQUIRE, name, holder, now + ttl_s, now) is not None

    async def renew_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Extend our lease to `ttl_s` seconds from now; False if someone else holds it."""
        sql = "UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3"
        return bool(await self._count(sql, self._clock() + ttl_s, name, holder))

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give up our lease; False if we did not hold it."""
        sql = "DELETE FROM leases WHERE name = $1 AND holder = $2"
        return bool(await self._count(sql, name, holder))

    # Runtime state

    async def get_state(self, key: str) -> str | None:
        """A value the runtime kept under `key` (e.g. the dialect a model accepts), or None."""
        value: str | None = await self._value("SELECT value FROM runtime_state WHERE key = $1", key)
        return value

    async def set_state(self, key: str, value: str | None) -> None:
        """Keep `value` under `key` across restarts (shared by every process); None deletes."""
        if value is None:
            await self._count("DELETE FROM runtime_state WHERE key = $1", key)
        else:
            await self._value(_SET_STATE, key, value, self._clock())
