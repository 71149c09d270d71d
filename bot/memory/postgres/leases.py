"""Named, expiring leases in PostgreSQL: one holder at a time, across processes and machines."""

from __future__ import annotations

from bot.memory.postgres.base import PostgresBase

# Take the lease if nobody has it, it has expired, or we already hold it; otherwise the
# conflict update's WHERE fails and no row comes back. The conflicting row is locked, so
# two processes racing for one lease are decided one after the other.
_ACQUIRE = """
INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at <= $4
RETURNING 1
"""


class LeasesMixin(PostgresBase):
    """Per-key single-flight through the database.

    A lease is a row with an expiry, not an advisory lock: advisory locks belong to a
    session, so they would pin a pooled connection for as long as a lease is held, and die
    with the connection on any network blip. A row survives both, and an atomic upsert
    decides who wins whatever the number of processes. Expiry is judged by the callers'
    clocks (the store's clock), so machines sharing a database must keep their clocks in
    sync (NTP); skew much smaller than the lease time-to-live is harmless.
    """

    async def try_acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take a named lease for `ttl_s` seconds if it is free, expired, or already ours."""
        now = self._clock()
        async with self._connection() as conn:
            row = await conn.fetchrow(_ACQUIRE, name, holder, now + ttl_s, now)
        return row is not None

    async def renew_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Extend our lease to `ttl_s` seconds from now; False if someone else holds it."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3 RETURNING 1",
                self._clock() + ttl_s,
                name,
                holder,
            )
        return row is not None

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give up our lease; False if we did not hold it."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "DELETE FROM leases WHERE name = $1 AND holder = $2 RETURNING 1", name, holder
            )
        return row is not None
