"""Daily spending limits: whether the model may be called for a guild (and a player) today."""

from __future__ import annotations

from bot.memory import GuildSettings, Store

SECONDS_PER_DAY = 86_400


def utc_day_start(now: float) -> float:
    """Unix time of the last UTC midnight at or before `now`."""
    # Unix time has no leap seconds, so whole days are exact multiples of 86,400.
    return now - now % SECONDS_PER_DAY


def until_reset(now: float) -> str:
    """How long until budgets reset at the next UTC midnight, e.g. "5 h 12 min"."""
    minutes = max(1, int((utc_day_start(now) + SECONDS_PER_DAY - now + 59) // 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


async def budget_refusal(
    store: Store, settings: GuildSettings, user_id: int | None, *, now: float
) -> str | None:
    """A polite refusal if the guild's or the player's daily budget is spent, else None.

    Budgets are in US dollars per UTC day and come from the guild's `settings`; spending is
    what the usage ledger recorded since the last UTC midnight (asked only when a budget is
    set).
    """
    guild_id = settings.guild_id
    since = utc_day_start(now)
    server_budget = settings.daily_budget_usd
    if server_budget is not None:
        spent = await store.spent_usd(guild_id, since)
        if spent >= server_budget:
            return (
                f"💤 This server has used today's model budget (${server_budget:.2f}), so the "
                f"personas are resting. They can pick up again after midnight UTC (in "
                f"{until_reset(now)}), or an admin can raise the budget with `/budget server`."
            )
    user_budget = settings.user_daily_budget_usd
    if user_budget is not None and user_id is not None:
        spent = await store.spent_usd(guild_id, since, user_id=user_id)
        if spent >= user_budget:
            return (
                f"💤 <@{user_id}> has used their daily share of the model budget "
                f"(${user_budget:.2f}). The personas can answer them again after midnight UTC "
                f"(in {until_reset(now)})."
            )
    return None
