"""Forgetting a user and wiping a channel, as seen through the store."""

from bot.memory import ChannelConfig, Store, UsageRecord
from bot.models import PlayerSheet, ReplyStatus

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, human


async def test_forget_user_erases_their_data_and_nobody_elses(store: Store) -> None:
    mine = await store.add_message(human(1001, "my secret plan", author_id=7))
    await store.add_message(
        human(1002, "in another channel", author_id=7, channel_id=OTHER_CHANNEL)
    )
    theirs = await store.add_message(human(1003, "someone else", author_id=8, author_name="Bram"))
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator", mine.id)
    await store.finish_reply(reply_id, "Noted.", ReplyStatus.COMPLETE, [2001])
    await store.save_sheet(PlayerSheet(7, "Aria"), None)
    await store.save_sheet(PlayerSheet(7, "Aria here"), GUILD)
    await store.save_sheet(PlayerSheet(8, "Bram"), GUILD)
    await store.add_pin(CHANNEL, "Aria hid the map.", 7)
    kept_pin = await store.add_pin(CHANNEL, "Bram owes a debt.", 8)
    await store.save_summary(CHANNEL, None, "edited by Aria", 10, author_id=7)
    for user in (7, 7, 8):
        await store.record_usage(
            UsageRecord(GUILD, CHANNEL, user, "narrator", 100, 10, cost_usd=0.5)
        )

    counts = await store.forget_user(7)

    assert counts == {"messages": 2, "sheets": 2, "pins": 1, "usage": 2, "summaries": 1}
    assert await store.get_message(mine.id) is None
    assert await store.count_messages(OTHER_CHANNEL) == 0
    assert await store.get_message(theirs.id) == theirs
    reply = await store.get_message(reply_id)
    assert reply is not None
    assert reply.reply_to is None
    assert await store.get_sheets([7, 8], GUILD) == {8: PlayerSheet(8, "Bram")}
    assert [p.id for p in await store.list_pins(CHANNEL)] == [kept_pin]
    summary = await store.get_summary(CHANNEL)
    assert summary is not None
    assert summary.author_id is None
    report = await store.usage_report(GUILD)
    assert report.total.cost_usd == 1.5
    assert set(report.by_user) == {None, 8}
    assert report.by_user[None].requests == 2


async def test_forget_user_with_nothing_stored(store: Store) -> None:
    counts = await store.forget_user(12345)

    assert counts == {"messages": 0, "sheets": 0, "pins": 0, "usage": 0, "summaries": 0}


async def test_wipe_channel_keeps_its_settings(store: Store) -> None:
    await store.save_channel(ChannelConfig(CHANNEL, GUILD, enabled=True, cast=("narrator",)))
    await store.add_message(human(1001))
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply_id, "text", ReplyStatus.COMPLETE, [2001, 2002])
    await store.save_channel(ChannelConfig(CHANNEL, GUILD, enabled=True, cast=("narrator", "bard")))
    await store.save_summary(CHANNEL, None, "summary", reply_id)
    await store.save_summary(CHANNEL, "bard", "bard summary", reply_id)
    await store.add_pin(CHANNEL, "pin", 7)
    await store.add_message(human(5000, channel_id=OTHER_CHANNEL))
    await store.add_pin(OTHER_CHANNEL, "other pin", 7)

    counts = await store.wipe_channel(CHANNEL)

    assert counts == {"messages": 2, "summaries": 2, "pins": 1}
    assert await store.window(CHANNEL, limit=10) == []
    assert await store.get_by_discord_id(2002) is None
    assert await store.get_summary(CHANNEL) is None
    assert await store.get_summary(CHANNEL, "bard") is None
    assert await store.list_pins(CHANNEL) == []
    config = await store.get_channel(CHANNEL)
    assert config is not None
    assert config.cast == ("narrator", "bard")
    assert await store.cast_joined(CHANNEL) == {"narrator": 0, "bard": 0}
    assert await store.count_messages(OTHER_CHANNEL) == 1
    assert len(await store.list_pins(OTHER_CHANNEL)) == 1
