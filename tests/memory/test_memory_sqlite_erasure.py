"""Erased data is gone from the SQLite file itself: no copy in free pages or the WAL."""

from pathlib import Path

from bot.memory import open_store
from bot.models import PlayerSheet

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, human

ARIA = [b"AriaSaidThis-7f3a", b"AriaDisplayName-7f3a", b"AriaSheet-7f3a", b"AriaPin-7f3a"]
BRAM = b"BramKeepsThis-1c2d"
TABLE_TALK = b"TableTalk-55e1"


def stored_bytes(path: Path) -> bytes:
    """Every byte SQLite keeps for the database: the file, its WAL and shared-memory index."""
    parts = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


async def fill(path: Path) -> None:
    async with open_store(path) as store:
        for n in range(50):
            aria_says = f"{ARIA[0].decode()} #{n} " + "x" * 200
            await store.add_message(human(1000 + n, aria_says, author_name=ARIA[1].decode()))
            await store.add_message(
                human(2000 + n, f"{BRAM.decode()} #{n}", author_id=8, author_name="Bram")
            )
            await store.add_message(
                human(3000 + n, f"{TABLE_TALK.decode()} #{n}", channel_id=OTHER_CHANNEL)
            )
        await store.save_sheet(PlayerSheet(7, "Aria", ARIA[2].decode()), GUILD)
        await store.add_pin(CHANNEL, ARIA[3].decode(), 7)


async def test_forgotten_user_is_gone_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    await fill(path)
    before = stored_bytes(path)
    assert all(marker in before for marker in [*ARIA, BRAM])  # the check below can see them

    async with open_store(path) as store:
        await store.forget_user(7)
        while_open = stored_bytes(path)
        assert await store.count_messages(CHANNEL) == 50
    after_close = stored_bytes(path)

    for blob in (while_open, after_close):
        assert [marker for marker in ARIA if marker in blob] == []
        assert BRAM in blob


async def test_wiped_channel_is_gone_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    await fill(path)
    assert TABLE_TALK in stored_bytes(path)

    async with open_store(path) as store:
        await store.wipe_channel(OTHER_CHANNEL)
        while_open = stored_bytes(path)
    after_close = stored_bytes(path)

    for blob in (while_open, after_close):
        assert TABLE_TALK not in blob
        assert BRAM in blob
