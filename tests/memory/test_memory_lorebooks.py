"""Lorebooks and admins' adult/not-adult marks on personas: authored content, kept whole."""

import pytest

from bot.memory import Store

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, human

BOOK = {
    "name": "The Rusty Anchor",
    "entries": [
        {"keys": ["Glimmerfang", "sword"], "content": "A blade of starlight. ✨", "order": 10},
        {"keys": ["Sérà"], "content": 'The smith says "hi"\nthen leaves.', "constant": True},
    ],
    "huge": 2**80,
    "ratio": 0.30000000000000004,
}


async def test_a_book_round_trips_per_scope_and_owner(store: Store, reopen) -> None:
    assert await store.get_lorebook("scene", CHANNEL) is None

    await store.save_lorebook("scene", CHANNEL, BOOK)
    await store.save_lorebook("guild", GUILD, {"entries": []})
    await store.save_lorebook("guild", CHANNEL, {"entries": [], "note": "a guild, same id"})

    assert await store.get_lorebook("scene", CHANNEL) == BOOK
    assert await store.get_lorebook("guild", GUILD) == {"entries": []}
    assert await store.get_lorebook("guild", CHANNEL) == {"entries": [], "note": "a guild, same id"}
    assert await store.get_lorebook("scene", OTHER_CHANNEL) is None
    await store.close()
    async with reopen() as again:
        assert list(await again.get_lorebook("scene", CHANNEL) or {}) == list(BOOK)  # key order


async def test_saving_replaces_the_whole_book(store: Store) -> None:
    await store.save_lorebook("scene", CHANNEL, BOOK)

    await store.save_lorebook("scene", CHANNEL, {"entries": [{"keys": ["x"], "content": "y"}]})

    assert await store.get_lorebook("scene", CHANNEL) == {
        "entries": [{"keys": ["x"], "content": "y"}]
    }


async def test_a_big_book(store: Store) -> None:
    entries = [{"keys": [f"key{n}"], "content": "lore " * 100} for n in range(6000)]

    await store.save_lorebook("guild", GUILD, {"entries": entries})

    book = await store.get_lorebook("guild", GUILD)
    assert book is not None
    assert len(book["entries"]) == 6000
    assert book["entries"][5999] == entries[5999]


async def test_delete_says_whether_there_was_a_book(store: Store) -> None:
    await store.save_lorebook("scene", CHANNEL, BOOK)

    assert await store.delete_lorebook("scene", CHANNEL) is True
    assert await store.delete_lorebook("scene", CHANNEL) is False
    assert await store.get_lorebook("scene", CHANNEL) is None


async def test_bad_books_and_scopes_are_refused_and_change_nothing(store: Store) -> None:
    await store.save_lorebook("scene", CHANNEL, BOOK)

    with pytest.raises(ValueError, match="not JSON"):
        await store.save_lorebook("scene", CHANNEL, {"entries": {1, 2}})
    with pytest.raises(ValueError, match="not JSON"):
        await store.save_lorebook("scene", CHANNEL, {"weight": float("nan")})
    for call in (
        store.get_lorebook("channel", CHANNEL),  # type: ignore[arg-type]
        store.save_lorebook("world", CHANNEL, BOOK),  # type: ignore[arg-type]
        store.delete_lorebook("", CHANNEL),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match="scope"):
            await call

    assert await store.get_lorebook("scene", CHANNEL) == BOOK


async def test_wiping_a_scene_keeps_its_book(store: Store) -> None:
    await store.add_message(human(1001, "Glimmerfang gleams."))
    await store.save_lorebook("scene", CHANNEL, BOOK)

    await store.wipe_channel(CHANNEL)
    await store.forget_user(7)

    assert await store.count_messages(CHANNEL) == 0
    assert await store.get_lorebook("scene", CHANNEL) == BOOK


async def test_persona_adult_marks(store: Store) -> None:
    assert await store.get_persona_adult(GUILD, "vex") is None

    await store.set_persona_adult(GUILD, "vex", True)
    await store.set_persona_adult(GUILD, "narrator", False)
    await store.set_persona_adult(GUILD + 1, "vex", False)

    assert await store.get_persona_adult(GUILD, "vex") is True
    assert await store.get_persona_adult(GUILD, "narrator") is False
    assert await store.get_persona_adult(GUILD + 1, "vex") is False
    await store.set_persona_adult(GUILD, "vex", False)
    assert await store.get_persona_adult(GUILD, "vex") is False
    await store.set_persona_adult(GUILD, "vex", None)
    assert await store.get_persona_adult(GUILD, "vex") is None
    await store.set_persona_adult(GUILD, "vex", None)  # removing nothing is harmless
    assert await store.get_persona_adult(GUILD + 1, "vex") is False
