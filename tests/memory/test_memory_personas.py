"""Guild persona cards (kept losslessly) and player character sheets."""

import json
import math

import pytest

from bot.memory import Store
from bot.models import PlayerSheet

from .helpers import GUILD, FakeClock

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Sérà ✨ 星",
        "description": 'Says "hi"\nthen leaves.\\ \t \u0000 \u2028',
        "alternate_greetings": ["one", "two"],
        "talkativeness": 0.1,
        "weights": [1e308, -0.0, 5e-324, 0.30000000000000004],
        "huge": 2**80,
        "negative": -(2**70),
        "nothing": None,
        "flags": [True, False],
        "extensions": {"zeta": {"keep": "me"}, "alpha": [], "lone": "\ud800"},
        "character_book": {"entries": [{"keys": ["storm"], "content": "It rains."}]},
    },
}


async def test_cards_round_trip_losslessly(store: Store, reopen, clock: FakeClock) -> None:
    saved = await store.save_persona(GUILD, "sera", CARD)
    assert saved.card == CARD
    assert saved.updated_at == clock.now
    await store.close()

    async with reopen() as again:
        loaded = await again.get_persona(GUILD, "sera")
    assert loaded is not None
    assert loaded.card == CARD
    # Same keys in the same order, same numbers bit for bit.
    assert json.dumps(loaded.card) == json.dumps(CARD)
    weights = loaded.card["data"]["weights"]
    assert math.copysign(1.0, weights[1]) == -1.0
    assert isinstance(loaded.card["data"]["huge"], int)


async def test_guild_cards_list_override_and_delete(store: Store, clock: FakeClock) -> None:
    await store.save_persona(GUILD, "sera", {"name": "Sera"})
    await store.save_persona(GUILD, "bard", {"name": "Bard"})
    await store.save_persona(GUILD + 1, "sera", {"name": "Other guild's Sera"})
    clock.advance(10)
    await store.save_persona(GUILD, "sera", {"name": "Sera, revised"})

    listed = await store.list_personas(GUILD)
    assert [(p.persona_id, p.card["name"]) for p in listed] == [
        ("bard", "Bard"),
        ("sera", "Sera, revised"),
    ]
    assert listed[1].updated_at == clock.now
    assert await store.delete_persona(GUILD, "sera") is True
    assert await store.delete_persona(GUILD, "sera") is False
    assert await store.get_persona(GUILD, "sera") is None
    other = await store.get_persona(GUILD + 1, "sera")
    assert other is not None
    assert other.card == {"name": "Other guild's Sera"}


@pytest.mark.parametrize("card", [{"bad": math.nan}, {"bad": math.inf}, {"bad": {1, 2}}])
async def test_non_json_cards_are_refused(store: Store, card) -> None:
    with pytest.raises(ValueError):
        await store.save_persona(GUILD, "bad", card)
    assert await store.get_persona(GUILD, "bad") is None


async def test_guild_sheet_wins_over_global(store: Store) -> None:
    global_sheet = PlayerSheet(7, "Aria", "A wandering ranger.", "https://example.test/a.png")
    guild_sheet = PlayerSheet(7, "Aria the Bold", "Captain of the guard.")
    await store.save_sheet(global_sheet, None)

    assert await store.get_sheet(7, GUILD) == global_sheet
    await store.save_sheet(guild_sheet, GUILD)
    assert await store.get_sheet(7, GUILD) == guild_sheet
    assert await store.get_sheet(7, GUILD + 1) == global_sheet
    assert await store.get_sheet(7, None) == global_sheet
    assert await store.get_sheet(8, GUILD) is None


async def test_get_sheets_for_several_players(store: Store) -> None:
    await store.save_sheet(PlayerSheet(7, "Aria"), None)
    await store.save_sheet(PlayerSheet(7, "Aria (here)"), GUILD)
    await store.save_sheet(PlayerSheet(8, "Bram"), GUILD)
    await store.save_sheet(PlayerSheet(9, "Cato"), None)

    sheets = await store.get_sheets([7, 8, 9, 10, 7], GUILD)

    assert sheets == {
        7: PlayerSheet(7, "Aria (here)"),
        8: PlayerSheet(8, "Bram"),
        9: PlayerSheet(9, "Cato"),
    }
    assert await store.get_sheets([], GUILD) == {}
    assert await store.get_sheets([7, 8], None) == {7: PlayerSheet(7, "Aria")}


async def test_save_replaces_and_clear_removes(store: Store) -> None:
    await store.save_sheet(PlayerSheet(7, "Aria", "old"), GUILD)
    await store.save_sheet(PlayerSheet(7, "Aria", "new", "https://example.test/b.png"), GUILD)
    await store.save_sheet(PlayerSheet(7, "Global Aria"), None)

    assert await store.get_sheet(7, GUILD) == PlayerSheet(
        7, "Aria", "new", "https://example.test/b.png"
    )
    assert await store.clear_sheet(7, GUILD) is True
    assert await store.clear_sheet(7, GUILD) is False
    assert await store.get_sheet(7, GUILD) == PlayerSheet(7, "Global Aria")
    assert await store.clear_sheet(7, None) is True
    assert await store.get_sheet(7, GUILD) is None
