"""The usage ledger, leases for cross-process single-flight, and small runtime state."""

from __future__ import annotations

from bot.memory.backend import StoreBase
from bot.memory.records import UsageRecord, UsageReport
from bot.memory.rows import USAGE_GROUPS, usage_report_from_rows
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

_SET_STATE = """
INSERT INTO runtime_state (key, value, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
"""


class LedgerMixin(StoreBase):
    """Recording and reporting model usage; leases; runtime state.

    A lease is a row with an expiry, not an advisory lock: advisory locks belong to a
    session, so they would pin a pooled connection for as long as a lease is held, and die
    with the connection on any network blip. A row survives both, and an atomic upsert
    decides who wins whatever the number of processes. Expiry is judged by the callers'
    clocks (the store's clock), so machines sharing a database must keep their clocks in
    sync (NTP); skew much smaller than the lease time-to-live is harmless.
    """

    async def record_usage(self, record: UsageRecord) -> None:
        """Add one request to the ledger, priced from M2-her's list when `cost_usd` is None."""
        cost = resolve_cost(
            record.cost_usd, record.prompt_tokens, record.completion_tokens, record.cached_tokens
        )
        async with self._db.connection() as conn:
            await conn.execute(
                _INSERT_USAGE,
                record.guild_id,
                record.channel_id,
                record.user_id,
                record.persona_id,
                record.prompt_tokens,
                record.completion_tokens,
                record.cached_tokens,
                cost,
                self._clock() if record.created_at is None else record.created_at,
                record.flags,
            )

    async def usage_report(self, guild_id: int, since: float | None = None) -> UsageReport:
        """A guild's usage since a time (or ever), in total and per channel, user and persona."""
        where = "guild_id = $1" if since is None else "guild_id = $1 AND created_at >= $2"
        params = (guild_id,) if since is None else (guild_id, since)
        async with self._db.connection() as conn:
            total = await conn.fetchrow(
                f"SELECT {_TOTALS} FROM usage_ledger WHERE {where}", *params
            )
            groups = {
                column: await conn.fetch(
                    f"SELECT {column}, {_TOTALS} FROM usage_ledger WHERE {where} GROUP BY {column}",
                    *params,
                )
                for column in USAGE_GROUPS
            }
        assert total is not None
        return usage_report_from_rows(guild_id, since, total, groups)

    async def spent_usd(self, guild_id: int, since: float, user_id: int | None = None) -> float:
        """Dollars a guild (or one user in it) has spent since a time."""
        where = "guild_id = $1 AND created_at >= $2" + (
            "" if user_id is None else " AND user_id = $3"
        )
        params = (guild_id, since) if user_id is None else (guild_id, since, user_id)
        async with self._db.connection() as conn:
            spent = await conn.fetchval(
                f"SELECT COALESCE(SUM(cost_usd), 0.0) FROM usage_ledger WHERE {where}", *params
            )
        return float(spent)

    # Leases: cross-process single-flight

    async def try_acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take a named lease for `ttl_s` seconds if it is free, expired, or already ours."""
        now = self._clock()
        async with self._db.connection() as conn:
            return await conn.fetchrow(_ACQUIRE, name, holder, now + ttl_s, now) is not None

    async def renew_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Extend our lease to `ttl_s` seconds from now; False if someone else holds it."""
        async with self._db.connection() as conn:
            return bool(
                await conn.count(
                    "UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3",
                    self._clock() + ttl_s,
                    name,
                    holder,
                )
            )

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give up our lease; False if we did not hold it."""
        async with self._db.connection() as conn:
            return bool(
                await conn.count("DELETE FROM leases WHERE name = $1 AND holder = $2", name, holder)
            )

    # Runtime state

    async def get_state(self, key: str) -> str | None:
        """A value the runtime kept under `key` (e.g. the dialect a model accepts), or None."""
        async with self._db.connection() as conn:
            value: str | None = await conn.fetchval(
                "SELECT value FROM runtime_state WHERE key = $1", key
            )
        return value

    async def set_state(self, key: str, value: str | None) -> None:
        """Keep `value` under `key` across restarts (shared by every process); None deletes."""
        async with self._db.connection() as conn:
            if value is None:
                await conn.execute("DELETE FROM runtime_state WHERE key = $1", key)
            else:
                await conn.execute(_SET_STATE, key, value, self._clock())
