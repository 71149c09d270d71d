"""Filling a memory with every kind of record, and reading all of it back, through the Store."""

from typing import Any

from bot.memory import ChannelConfig, GuildSettings, NewMessage, Store, UsageRecord
from bot.models import AuthorKind, PlayerSheet, ReplyStatus

GUILDS = (500, 501)
CHANNELS = (600, 601, 602)
USERS = (7, 8, 9)
PERSONAS = ("narrator", "bard")

CARD = {
    "spec": "chara_card_v2",
    "data": {
        "name": "Sérà ✨ 星",
        "description": 'Says "hi"\nthen leaves.\\ \t \u0000 \u2028',
        "weights": [1e308, -0.0, 5e-324, 0.30000000000000004],
        "huge": 2**80,
        "extensions": {"zeta": {"keep": "me"}, "alpha": [], "lone": "\ud800"},
    },
}


def said(discord_id: int, text: str, *, channel: int = 600, user: int = 7, **extra) -> NewMessage:
    return NewMessage(
        channel_id=channel,
        guild_id=GUILDS[0],
        discord_id=discord_id,
        author_id=user,
        author_name=f"Player {user}",
        text=text,
        kind=AuthorKind.HUMAN,
        **extra,
    )


async def populate(store: Store) -> None:
    """Some of everything: settings, cards, sheets, history with swipes, summaries, usage."""
    await store.save_guild_settings(
        GuildSettings(500, 42, 43, 2.5, 0.25, admin_notified=frozenset({"quota", "auth"}))
    )
    await store.save_guild_settings(GuildSettings(501, log_channel_id=44))
    await store.save_channel(
        ChannelConfig(
            600, 500, enabled=True, cast=("narrator",), scene_name="The Rusty Anchor",
            scene_setting="A tavern, at night", reply_mode="auto", lull_seconds=4.5,
            generation={"temperature": 0.8, "max_tokens": 400}, ooc_mode="mark",
        )
    )  # fmt: skip
    await store.save_channel(ChannelConfig(601, 500, enabled=False))
    await store.save_channel(ChannelConfig(602, 501, enabled=True, cast=("bard",)))
    await store.save_persona(500, "sera", CARD)
    await store.save_persona(500, "Zed", {"name": "Zed"})
    await store.save_persona(501, "sera", {"name": "Other guild's Sera"})
    await store.save_sheet(PlayerSheet(7, "Aria", "A ranger.", "https://example.test/a.png"), None)
    await store.save_sheet(PlayerSheet(7, "Aria here", "Captain."), 500)
    await store.save_sheet(PlayerSheet(8, "Bram"), 500)

    asked = await store.add_message(said(1001, "Where is the key? 🗝️"))
    await store.add_message(said(1002, "(brb)", user=8, ooc=True))
    await store.add_message(said(1003, "I answer", reply_to_discord_id=1001, created_at=5.0))
    await store.edit_message(1003, "I answer, edited")
    reply = await store.begin_reply(600, 500, "narrator", "The Narrator", asked.id)
    await store.save_progress(reply, "Under", [2001])
    await store.finish_reply(reply, "Under the mat.", ReplyStatus.COMPLETE, [2001, 2002, 2003])
    await store.add_alternative(reply, "In the well.", ReplyStatus.COMPLETE)
    await store.add_alternative(reply, "Nowh", ReplyStatus.INTERRUPTED)
    await store.select_alternative(reply, 1)
    await store.save_channel(
        ChannelConfig(600, 500, enabled=True, cast=("narrator", "bard"), ooc_mode="mark")
    )
    cut = await store.begin_reply(602, 501, "bard", "Bard")
    await store.finish_reply(cut, "The storm bro", ReplyStatus.INTERRUPTED, [2101])
    for n in range(30):
        await store.add_message(said(3000 + n, f"line {n}", channel=602, user=9))
    # Forgotten ids: SQLite never hands them out again, and neither may PostgreSQL.
    await store.add_message(said(4000, "rewound away", channel=601))
    await store.add_message(said(4001, "rewound too", channel=601))
    await store.rewind(601, 4000)
    await store.add_pin(600, "The king is dead.", 7)
    gone = await store.add_pin(600, "Unpinned later.", 8)
    await store.remove_pin(600, gone)
    await store.add_pin(602, "It is winter.", None)
    await store.save_summary(600, None, "They met at the inn.", asked.id)
    await store.save_summary(600, None, "They met, then fought.", reply, author_id=7)
    await store.save_summary(600, "bard", "What the bard saw.", reply)
    await store.save_summary(602, None, "Old", cut)
    await store.rollback_summary(602)
    for user in (7, 8, None):
        await store.record_usage(UsageRecord(500, 600, user, "narrator", 1000, 100, 600))
    await store.record_usage(UsageRecord(501, 602, 9, "bard", 10, 10, cost_usd=0.125))
    await store.try_acquire_lease("channel:600", "old-process", 30)
    await store.save_lorebook("scene", 600, {"entries": [{"keys": ["key"], "content": CARD}]})
    await store.save_lorebook("guild", 500, {"entries": []})
    await store.set_persona_adult(500, "sera", True)
    await store.set_persona_adult(501, "sera", False)


async def dump(store: Store) -> dict[str, Any]:
    """Everything the store answers about the populated memory."""
    found: dict[str, Any] = {}
    for guild in GUILDS:
        found[f"guild {guild}"] = await store.get_guild_settings(guild)
        found[f"personas {guild}"] = await store.list_personas(guild)
        found[f"enabled {guild}"] = await store.list_enabled_channels(guild)
        found[f"sheets {guild}"] = await store.get_sheets(USERS, guild)
        found[f"usage {guild}"] = await store.usage_report(guild)
        found[f"spent {guild}"] = await store.spent_usd(guild, 0.0)
    found["global sheets"] = await store.get_sheets(USERS, None)
    for persona in ("sera", "Zed"):
        found[f"adult {persona}"] = [await store.get_persona_adult(g, persona) for g in GUILDS]
    for scope, owner in (("guild", 500), ("guild", 501), ("scene", 600), ("scene", 602)):
        found[f"lorebook {scope} {owner}"] = await store.get_lorebook(scope, owner)
    # The target builds its own recall index from the rows copied; scores differ by backend.
    for words in ("key well mat", "line storm", "met inn fought"):
        hits = await store.recall(600, words, include_ooc=True, limit=50)
        hits += await store.recall(602, words, limit=50)
        found[f"recall {words}"] = sorted((hit.kind, hit.id, hit.text) for hit in hits)
    for channel in CHANNELS:
        history = await store.window(channel, limit=1000)
        found[f"channel {channel}"] = await store.get_channel(channel)
        found[f"cast {channel}"] = await store.cast_joined(channel)
        found[f"history {channel}"] = history
        found[f"latest {channel}"] = await store.latest_id(channel)
        found[f"pins {channel}"] = await store.list_pins(channel)
        for persona in (None, *PERSONAS):
            found[f"summaries {channel} {persona}"] = await store.summary_history(channel, persona)
        for message in history:
            for part in message.discord_ids:
                found[f"part {part}"] = await store.get_by_discord_id(part)
            if message.swipe_count > 1:
                found[f"swipes {message.id}"] = await _alternatives(store, message.id)
    return found


async def _alternatives(store: Store, reply_id: int) -> list[Any]:
    shown = await store.get_message(reply_id)
    assert shown is not None
    takes = [await store.select_alternative(reply_id, i) for i in range(shown.swipe_count)]
    await store.select_alternative(reply_id, shown.swipe_index)
    return takes
