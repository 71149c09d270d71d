"""The usage ledger (tokens and dollars per request) in PostgreSQL."""

from __future__ import annotations

from bot.memory.postgres.base import PostgresBase
from bot.memory.records import UsageRecord, UsageReport
from bot.memory.rows import USAGE_GROUPS, usage_report_from_rows, usage_values

# SUM over BIGINT is NUMERIC in PostgreSQL; cast back so totals are ints, as in SQLite.
_TOTALS = (
    "COUNT(*), COALESCE(SUM(prompt_tokens), 0)::BIGINT, "
    "COALESCE(SUM(completion_tokens), 0)::BIGINT, COALESCE(SUM(cached_tokens), 0)::BIGINT, "
    "COALESCE(SUM(cost_usd), 0.0)"
)

_SINCE = "guild_id = $1 AND created_at >= COALESCE($2, '-infinity'::DOUBLE PRECISION)"

_INSERT_USAGE = (
    "INSERT INTO usage_ledger (guild_id, channel_id, user_id, persona_id, "
    "prompt_tokens, completion_tokens, cached_tokens, cost_usd, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)


class UsageMixin(PostgresBase):
    """Recording and reporting model usage."""

    async def record_usage(self, record: UsageRecord) -> None:
        """Add one request to the ledger, priced from M2-her's list when `cost_usd` is None."""
        values = usage_values(record, self._clock)
        async with self._connection() as conn:
            await conn.execute(_INSERT_USAGE, *values)

    async def usage_report(self, guild_id: int, since: float | None = None) -> UsageReport:
        """A guild's usage since a time (or ever), in total and per channel, user and persona."""
        async with self._connection() as conn:
            total = await conn.fetchrow(
                f"SELECT {_TOTALS} FROM usage_ledger WHERE {_SINCE}", guild_id, since
            )
            groups = {
                column: await conn.fetch(
                    f"SELECT {column}, {_TOTALS} FROM usage_ledger WHERE {_SINCE} "
                    f"GROUP BY {column}",
                    guild_id,
                    since,
                )
                for column in USAGE_GROUPS
            }
        return usage_report_from_rows(guild_id, since, total, groups)

    async def spent_usd(self, guild_id: int, since: float, user_id: int | None = None) -> float:
        """Dollars a guild (or one user in it) has spent since a time."""
        async with self._connection() as conn:
            spent = await conn.fetchval(
                "SELECT COALESCE(SUM(cost_usd), 0.0) FROM usage_ledger "
                "WHERE guild_id = $1 AND created_at >= $2 AND ($3::BIGINT IS NULL OR user_id = $3)",
                guild_id,
                since,
                user_id,
            )
        return float(spent)
