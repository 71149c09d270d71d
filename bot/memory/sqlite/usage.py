"""The usage ledger (tokens and dollars per request) in SQLite."""

from __future__ import annotations

from bot.memory.records import UsageRecord, UsageReport
from bot.memory.rows import USAGE_GROUPS, usage_report_from_rows, usage_values
from bot.memory.sqlite.base import SqliteBase

_TOTALS = (
    "COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
    "COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(cost_usd), 0.0)"
)

_INSERT_USAGE = (
    "INSERT INTO usage_ledger (guild_id, channel_id, user_id, persona_id, "
    "prompt_tokens, completion_tokens, cached_tokens, cost_usd, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class UsageMixin(SqliteBase):
    """Recording and reporting model usage."""

    async def record_usage(self, record: UsageRecord) -> None:
        """Add one request to the ledger, priced from M2-her's list when `cost_usd` is None."""
        values = usage_values(record, self._clock)
        async with self._locked() as sql:
            await sql.execute(_INSERT_USAGE, values)

    async def usage_report(self, guild_id: int, since: float | None = None) -> UsageReport:
        """A guild's usage since a time (or ever), in total and per channel, user and persona."""
        where = "guild_id = ?" if since is None else "guild_id = ? AND created_at >= ?"
        params = (guild_id,) if since is None else (guild_id, since)
        async with self._locked() as sql:
            total = await sql.fetchone(f"SELECT {_TOTALS} FROM usage_ledger WHERE {where}", params)
            groups = {
                column: await sql.fetchall(
                    f"SELECT {column}, {_TOTALS} FROM usage_ledger WHERE {where} GROUP BY {column}",
                    params,
                )
                for column in USAGE_GROUPS
            }
        assert total is not None
        return usage_report_from_rows(guild_id, since, total, groups)

    async def spent_usd(self, guild_id: int, since: float, user_id: int | None = None) -> float:
        """Dollars a guild (or one user in it) has spent since a time."""
        if user_id is None:
            query = "guild_id = ? AND created_at >= ?"
            params: tuple[int | float, ...] = (guild_id, since)
        else:
            query = "user_id = ? AND created_at >= ? AND guild_id = ?"
            params = (user_id, since, guild_id)
        async with self._locked() as sql:
            spent = await sql.scalar(
                f"SELECT COALESCE(SUM(cost_usd), 0.0) FROM usage_ledger WHERE {query}", params
            )
        return float(spent)
