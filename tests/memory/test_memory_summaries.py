"""Versioned rolling summaries (per channel and per persona) and pinned facts."""

from bot.memory import Store

from .helpers import CHANNEL, OTHER_CHANNEL, FakeClock


async def test_summaries_are_versioned(store: Store, clock: FakeClock) -> None:
    assert await store.get_summary(CHANNEL) is None

    first = await store.save_summary(CHANNEL, None, "They met at the inn.", 40)
    clock.advance(5)
    second = await store.save_summary(CHANNEL, None, "They met, then fought.", 90)

    assert (first.version, second.version) == (1, 2)
    assert (second.text, second.covers_until, second.created_at) == (
        "They met, then fought.",
        90,
        clock.now,
    )
    assert second.persona_id is None
    assert second.author_id is None
    assert await store.get_summary(CHANNEL) == second
    assert await store.summary_history(CHANNEL) == [second, first]
    assert await store.summary_history(CHANNEL, limit=1) == [second]


async def test_persona_summaries_are_separate(store: Store) -> None:
    channel_wide = await store.save_summary(CHANNEL, None, "Everyone's story.", 50)
    bard = await store.save_summary(CHANNEL, "bard", "What the bard saw.", 50)
    elsewhere = await store.save_summary(OTHER_CHANNEL, None, "Another table.", 10)

    assert bard.version == 1
    assert bard.persona_id == "bard"
    assert await store.get_summary(CHANNEL) == channel_wide
    assert await store.get_summary(CHANNEL, "bard") == bard
    assert await store.get_summary(CHANNEL, "narrator") is None
    assert await store.get_summary(OTHER_CHANNEL) == elsewhere


async def test_admin_edit_and_rollback(store: Store) -> None:
    by_model = await store.save_summary(CHANNEL, None, "They met at the inn.", 40)
    by_admin = await store.save_summary(CHANNEL, None, "They met at the old inn.", 40, author_id=9)
    assert by_admin.author_id == 9

    assert await store.rollback_summary(CHANNEL) == by_model
    assert await store.get_summary(CHANNEL) == by_model
    assert await store.rollback_summary(CHANNEL) is None
    assert await store.get_summary(CHANNEL) is None
    assert await store.rollback_summary(CHANNEL) is None


async def test_pins(store: Store, clock: FakeClock) -> None:
    first = await store.add_pin(CHANNEL, "The king is dead.", 7)
    second = await store.add_pin(CHANNEL, "It is winter.", None)
    await store.add_pin(OTHER_CHANNEL, "Elsewhere.", 7)

    pins = await store.list_pins(CHANNEL)
    assert [(p.id, p.text, p.author_id) for p in pins] == [
        (first, "The king is dead.", 7),
        (second, "It is winter.", None),
    ]
    assert pins[0].created_at == clock.now
    assert await store.remove_pin(OTHER_CHANNEL, first) is False
    assert await store.remove_pin(CHANNEL, first) is True
    assert await store.remove_pin(CHANNEL, first) is False
    assert [p.id for p in await store.list_pins(CHANNEL)] == [second]
