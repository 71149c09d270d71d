"""Named, expiring leases in SQLite: one holder at a time, across processes."""

from __future__ import annotations

from bot.memory.sqlite.base import SqliteBase

# Take the lease if nobody has it, it has expired, or we already hold it; otherwise the
# conflict update's WHERE fails and no row comes back.
_ACQUIRE = """
INSERT INTO leases (name, holder, expires_at) VALUES (:name, :holder, :expires)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at <= :now
RETURNING 1
"""


class LeasesMixin(SqliteBase):
    """Per-key single-flight through the database."""

    async def try_acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take a named lease for `ttl_s` seconds if it is free, expired, or already ours."""
        now = self._clock()
        params = {"name": name, "holder": holder, "expires": now + ttl_s, "now": now}
        async with self._locked() as sql:
            row = await sql.fetchone(_ACQUIRE, params)
        return row is not None

    async def renew_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Extend our lease to `ttl_s` seconds from now; False if someone else holds it."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? RETURNING 1",
                (self._clock() + ttl_s, name, holder),
            )
        return row is not None

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give up our lease; False if we did not hold it."""
        async with self._locked() as sql:
            row = await sql.fetchone(
                "DELETE FROM leases WHERE name = ? AND holder = ? RETURNING 1", (name, holder)
            )
        return row is not None
