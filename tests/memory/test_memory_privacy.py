"""Forgetting a user and wiping a channel, as seen through the store."""

from bot.memory import ChannelConfig, Store, UsageRecord
from bot.models import PlayerSheet, ReplyStatus

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, human

THIRD_CHANNEL = 602


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
    # Aria, as a game master, hand-wrote a summary where she never spoke: it stays, unlinked.
    await store.save_summary(THIRD_CHANNEL, None, "edited by Aria", 10, author_id=7)
    for user in (7, 7, 8):
        await store.record_usage(
            UsageRecord(GUILD, CHANNEL, user, "narrator", 100, 10, cost_usd=0.5)
        )

    counts = await store.forget_user(7)

    assert counts == {
        "messages": 2,
        "sheets": 2,
        "pins": 1,
        "usage": 2,
        "summaries": 0,
        "summary_channels": 0,
        "summary_authors": 1,
    }
    assert await store.get_message(mine.id) is None
    assert await store.count_messages(OTHER_CHANNEL) == 0
    assert await store.get_message(theirs.id) == theirs
    reply = await store.get_message(reply_id)
    assert reply is not None
    assert reply.reply_to is None
    assert await store.get_sheets([7, 8], GUILD) == {8: PlayerSheet(8, "Bram")}
    assert [p.id for p in await store.list_pins(CHANNEL)] == [kept_pin]
    summary = await store.get_summary(THIRD_CHANNEL)
    assert summary is not None
    assert (summary.text, summary.author_id) == ("edited by Aria", None)
    report = await store.usage_report(GUILD)
    assert report.total.cost_usd == 1.5
    assert set(report.by_user) == {None, 8}
    assert report.by_user[None].requests == 2


async def test_forget_user_with_nothing_stored(store: Store) -> None:
    counts = await store.forget_user(12345)

    assert counts == {
        "messages": 0,
        "sheets": 0,
        "pins": 0,
        "usage": 0,
        "summaries": 0,
        "summary_channels": 0,
        "summary_authors": 0,
    }


async def test_forget_user_erases_every_summary_built_from_their_messages(store: Store) -> None:
    await store.save_channel(ChannelConfig(CHANNEL, GUILD, enabled=True, cast=("narrator",)))
    bram_first = await store.add_message(human(1001, "Bram arrives", author_id=8))
    aria = await store.add_message(human(1002, "Aria's secret plan"))
    await store.save_channel(ChannelConfig(CHANNEL, GUILD, enabled=True, cast=("narrator", "vex")))
    bram = [await store.add_message(human(1003 + n, f"Bram {n}", author_id=8)) for n in range(3)]
    # An early version covers only Bram's line, later ones Aria's too; Vex's view goes with them.
    await store.save_summary(CHANNEL, None, "Bram arrived.", bram_first.id)
    await store.save_summary(CHANNEL, None, "Aria plans a heist.", bram[0].id)
    await store.save_summary(CHANNEL, None, "GM: Aria's heist.", bram[0].id, author_id=99)
    await store.save_summary(CHANNEL, "vex", "Vex saw Bram.", bram[1].id)
    # Aria never spoke here: its summaries owe her nothing.
    await store.add_message(human(2001, "table talk", author_id=8, channel_id=OTHER_CHANNEL))
    await store.save_summary(OTHER_CHANNEL, None, "Table talk, v1.", 1)
    await store.save_summary(OTHER_CHANNEL, None, "Table talk, v2.", 1)
    # Aria spoke here only after everything the summary covers.
    before = await store.add_message(human(3001, "early", author_id=8, channel_id=THIRD_CHANNEL))
    await store.add_message(human(3002, "Aria, late", channel_id=THIRD_CHANNEL))
    await store.save_summary(THIRD_CHANNEL, None, "Early days.", before.id)

    counts = await store.forget_user(7)

    assert counts["messages"] == 2
    assert (counts["summaries"], counts["summary_channels"]) == (4, 1)
    assert await store.summary_history(CHANNEL, limit=100) == []
    assert await store.summary_history(CHANNEL, "vex", limit=100) == []
    assert await store.rollback_summary(CHANNEL) is None  # no older version to go back to
    assert await store.get_message(aria.id) is None
    # Everyone else's lines stay, for the engine to summarise again.
    assert [m.id for m in await store.messages_after(CHANNEL, None, limit=10)] == [
        bram_first.id,
        *(m.id for m in bram),
    ]
    kept = await store.summary_history(OTHER_CHANNEL, limit=100)
    assert [s.text for s in kept] == ["Table talk, v2.", "Table talk, v1."]
    third = await store.get_summary(THIRD_CHANNEL)
    assert third is not None and third.text == "Early days."
    rebuilt = await store.save_summary(CHANNEL, None, "Bram and friends.", bram[-1].id)
    assert rebuilt.version == 1
    assert await store.forget_user(7) == dict.fromkeys(counts, 0)


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
