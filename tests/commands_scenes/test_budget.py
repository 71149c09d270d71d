"""bot.budget on a real SQLite store: UTC days, server and player budgets, the wording."""

import dataclasses
from datetime import UTC, datetime

import pytest

from bot.budget import budget_refusal, until_reset, utc_day_start
from bot.memory import UsageRecord, open_store

GUILD = 10
ALICE, BOB = 1, 2
NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2026, 3, 14, tzinfo=UTC).timestamp()


@pytest.fixture
async def store(tmp_path):
    async with open_store(str(tmp_path / "budget.sqlite3")) as opened:
        yield opened


async def spend(store, usd, *, at, user=ALICE, guild=GUILD):
    await store.record_usage(
        UsageRecord(
            guild_id=guild,
            channel_id=5,
            user_id=user,
            persona_id="vex",
            prompt_tokens=1,
            completion_tokens=1,
            cost_usd=usd,
            created_at=at,
        )
    )


async def set_budgets(store, server=None, user=None):
    settings = await store.get_guild_settings(GUILD)
    await store.save_guild_settings(
        dataclasses.replace(settings, daily_budget_usd=server, user_daily_budget_usd=user)
    )


def test_utc_day_start_and_time_until_reset():
    assert utc_day_start(NOON) == MIDNIGHT
    assert utc_day_start(MIDNIGHT) == MIDNIGHT
    assert until_reset(NOON) == "12 h"
    assert until_reset(MIDNIGHT + 86_400 - 90) == "2 min"
    assert until_reset(NOON + 3_600 * 6.5) == "5 h 30 min"


async def test_no_budget_means_no_refusal(store):
    await spend(store, 100.0, at=NOON)
    assert (
        await budget_refusal(store, await store.get_guild_settings(GUILD), ALICE, now=NOON) is None
    )


async def test_server_budget_counts_only_today_in_this_guild(store):
    await set_budgets(store, server=1.0)
    await spend(store, 5.0, at=MIDNIGHT - 1)  # yesterday
    await spend(store, 5.0, at=NOON, guild=99)  # another guild
    await spend(store, 0.6, at=MIDNIGHT, user=BOB)
    assert (
        await budget_refusal(store, await store.get_guild_settings(GUILD), ALICE, now=NOON) is None
    )

    await spend(store, 0.4, at=NOON - 60, user=BOB)
    refusal = await budget_refusal(store, await store.get_guild_settings(GUILD), ALICE, now=NOON)
    assert refusal is not None
    assert "today's model budget ($1.00)" in refusal and "in 12 h" in refusal
    assert (
        await budget_refusal(
            store, await store.get_guild_settings(GUILD), ALICE, now=MIDNIGHT + 86_400
        )
        is None
    )


async def test_player_budget_stops_only_the_player_who_spent_it(store):
    await set_budgets(store, user=0.5)
    await spend(store, 0.5, at=NOON - 60, user=ALICE)
    refusal = await budget_refusal(store, await store.get_guild_settings(GUILD), ALICE, now=NOON)
    assert refusal is not None and f"<@{ALICE}> has used their daily share" in refusal
    assert await budget_refusal(store, await store.get_guild_settings(GUILD), BOB, now=NOON) is None
    assert (
        await budget_refusal(store, await store.get_guild_settings(GUILD), None, now=NOON) is None
    )


async def test_zero_pauses_every_reply(store):
    await set_budgets(store, server=0.0)
    assert (
        await budget_refusal(store, await store.get_guild_settings(GUILD), ALICE, now=NOON)
        is not None
    )
