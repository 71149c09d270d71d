"""The usage ledger: recording requests, reports and budgets."""

import pytest

from bot.memory import Store, UsageRecord, UsageTotals

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, FakeClock


def usage(**changes) -> UsageRecord:
    values = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "user_id": 7,
        "persona_id": "narrator",
        "prompt_tokens": 1000,
        "completion_tokens": 100,
        "cached_tokens": 0,
        "cost_usd": None,
    }
    values.update(changes)
    return UsageRecord(**values)


async def test_cost_comes_from_the_provider_or_the_price_list(store: Store) -> None:
    await store.record_usage(usage(cost_usd=0.5))
    await store.record_usage(usage(prompt_tokens=1_000_000, completion_tokens=0))

    report = await store.usage_report(GUILD)

    assert report.total.cost_usd == pytest.approx(0.5 + 0.30)
    assert report.total.requests == 2


async def test_report_totals_and_breakdowns(store: Store, clock: FakeClock) -> None:
    await store.record_usage(usage(created_at=clock.now - 86_400))
    await store.record_usage(usage(cost_usd=0.01))
    await store.record_usage(usage(user_id=8, persona_id="bard", cost_usd=0.02, cached_tokens=600))
    await store.record_usage(usage(channel_id=OTHER_CHANNEL, user_id=None, cost_usd=0.04))
    await store.record_usage(usage(guild_id=GUILD + 1, cost_usd=9.0))

    report = await store.usage_report(GUILD, since=clock.now - 60)

    assert report.since == clock.now - 60
    assert report.total == UsageTotals(
        requests=3,
        prompt_tokens=3000,
        completion_tokens=300,
        cached_tokens=600,
        cost_usd=pytest.approx(0.07),
    )
    assert report.by_channel[CHANNEL].cost_usd == pytest.approx(0.03)
    assert report.by_channel[OTHER_CHANNEL].requests == 1
    assert set(report.by_user) == {7, 8, None}
    assert report.by_user[8].cached_tokens == 600
    assert report.by_persona["narrator"].requests == 2
    assert report.by_persona["bard"].cost_usd == pytest.approx(0.02)
    whole_history = await store.usage_report(GUILD)
    assert whole_history.total.requests == 4


async def test_spent_since_for_guild_and_user(store: Store, clock: FakeClock) -> None:
    await store.record_usage(usage(cost_usd=1.0, created_at=clock.now - 86_400))
    await store.record_usage(usage(cost_usd=0.25))
    await store.record_usage(usage(cost_usd=0.5, user_id=8))
    await store.record_usage(usage(cost_usd=3.0, guild_id=GUILD + 1))

    since = clock.now - 3600
    assert await store.spent_usd(GUILD, since) == pytest.approx(0.75)
    assert await store.spent_usd(GUILD, since, user_id=7) == pytest.approx(0.25)
    assert await store.spent_usd(GUILD, since, user_id=99) == 0.0
    assert await store.spent_usd(GUILD + 2, since) == 0.0


async def test_empty_report(store: Store) -> None:
    report = await store.usage_report(GUILD)

    assert report.total == UsageTotals()
    assert (report.by_channel, report.by_user, report.by_persona) == ({}, {}, {})
