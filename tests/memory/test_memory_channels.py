"""Channel settings, cast join points and guild settings."""

import pytest

from bot.memory import ChannelConfig, GuildSettings, Store

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, FakeClock, human


def config(**changes) -> ChannelConfig:
    values = {
        "channel_id": CHANNEL,
        "guild_id": GUILD,
        "enabled": True,
        "cast": ("narrator", "bard"),
        "scene_name": "The Rusty Anchor",
        "scene_setting": "A tavern on a stormy night",
        "reply_mode": "auto",
        "lull_seconds": 4.5,
        "generation": {"temperature": 0.8, "max_tokens": 400},
        "ooc_mode": "mark",
    }
    values.update(changes)
    return ChannelConfig(**values)


async def test_unknown_channel_is_none(store: Store) -> None:
    assert await store.get_channel(CHANNEL) is None
    assert await store.cast_joined(CHANNEL) == {}


async def test_channel_settings_round_trip(store: Store, clock: FakeClock) -> None:
    saved = await store.save_channel(config())

    assert saved.updated_at == clock.now
    loaded = await store.get_channel(CHANNEL)
    assert loaded == saved
    assert loaded is not None
    assert loaded.cast == ("narrator", "bard")
    assert loaded.generation == {"temperature": 0.8, "max_tokens": 400}
    assert isinstance(loaded.generation["max_tokens"], int)
    assert (loaded.reply_mode, loaded.lull_seconds, loaded.ooc_mode) == ("auto", 4.5, "mark")


async def test_defaults_round_trip(store: Store) -> None:
    saved = await store.save_channel(ChannelConfig(channel_id=CHANNEL, guild_id=GUILD))

    loaded = await store.get_channel(CHANNEL)
    assert loaded == saved
    assert loaded is not None
    assert (loaded.enabled, loaded.cast, loaded.reply_mode, loaded.ooc_mode) == (
        False,
        (),
        "addressed",
        None,
    )
    assert loaded.lull_seconds is None
    assert loaded.generation == {}


async def test_save_replaces_the_whole_config(store: Store, clock: FakeClock) -> None:
    await store.save_channel(config())
    clock.advance(60)

    await store.save_channel(
        config(cast=("bard",), scene_name="Dawn", ooc_mode=None, generation={})
    )

    loaded = await store.get_channel(CHANNEL)
    assert loaded is not None
    assert (loaded.cast, loaded.scene_name, loaded.ooc_mode, loaded.generation) == (
        ("bard",),
        "Dawn",
        None,
        {},
    )
    assert loaded.updated_at == clock.now


async def test_cast_members_remember_when_they_joined(store: Store) -> None:
    await store.save_channel(config(cast=("narrator",)))
    await store.add_message(human(1001))
    second = await store.add_message(human(1002))

    await store.save_channel(config(cast=("bard", "narrator")))
    assert await store.cast_joined(CHANNEL) == {"bard": second.id, "narrator": 0}

    third = await store.add_message(human(1003))
    await store.save_channel(config(cast=("narrator",)))
    await store.save_channel(config(cast=("narrator", "bard")))
    assert await store.cast_joined(CHANNEL) == {"narrator": 0, "bard": third.id}
    loaded = await store.get_channel(CHANNEL)
    assert loaded is not None
    assert loaded.cast == ("narrator", "bard")


async def test_list_enabled_channels(store: Store) -> None:
    await store.save_channel(config())
    await store.save_channel(config(channel_id=OTHER_CHANNEL, cast=(), enabled=True))
    await store.save_channel(config(channel_id=700, enabled=False))
    await store.save_channel(config(channel_id=800, guild_id=GUILD + 1, cast=("sage",)))

    everywhere = await store.list_enabled_channels()
    assert [c.channel_id for c in everywhere] == [CHANNEL, OTHER_CHANNEL, 800]
    assert [c.cast for c in everywhere] == [("narrator", "bard"), (), ("sage",)]
    in_guild = await store.list_enabled_channels(GUILD)
    assert [c.channel_id for c in in_guild] == [CHANNEL, OTHER_CHANNEL]
    assert await store.list_enabled_channels(GUILD + 2) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"reply_mode": "always"},
        {"ooc_mode": "hide"},
        {"cast": ("bard", "bard")},
        {"generation": {"temperature": "hot"}},
        {"generation": {"top_p": True}},
    ],
)
async def test_invalid_settings_are_refused(store: Store, bad) -> None:
    with pytest.raises(ValueError):
        await store.save_channel(config(**bad))
    assert await store.get_channel(CHANNEL) is None


async def test_guild_settings_default_then_round_trip(store: Store) -> None:
    assert await store.get_guild_settings(GUILD) == GuildSettings(guild_id=GUILD)

    settings = GuildSettings(
        guild_id=GUILD,
        log_channel_id=42,
        gm_role_id=43,
        daily_budget_usd=2.5,
        user_daily_budget_usd=0.25,
        admin_notified=frozenset({"quota", "auth"}),
    )
    await store.save_guild_settings(settings)
    assert await store.get_guild_settings(GUILD) == settings

    cleared = GuildSettings(guild_id=GUILD, log_channel_id=42)
    await store.save_guild_settings(cleared)
    assert await store.get_guild_settings(GUILD) == cleared
    assert await store.get_guild_settings(GUILD + 1) == GuildSettings(guild_id=GUILD + 1)
