"""Erased data is gone from the SQLite file itself: no copy in free pages, the WAL, or the
recall index (which keeps words lowercased, so those are looked for too)."""

from pathlib import Path

from bot.memory import open_store
from bot.models import PlayerSheet

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, human

ARIA = [b"AriaSaidThis-7f3a", b"AriaDisplayName-7f3a", b"AriaSheet-7f3a", b"AriaPin-7f3a"]
BRAM = b"BramKeepsThis-1c2d"
TABLE_TALK = b"TableTalk-55e1"
ARIA_SUMMARY = b"AriaSummarised-7f3a"
TABLE_SUMMARY = b"TableSummary-55e1"
ARIA_WORD = b"ariasaidthis"
TABLE_WORD = b"tabletalk"
SUMMARY_WORD = b"ummarised"  # the end of a word the index may store after a shared start


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
        assert await store.recall(CHANNEL, "AriaSaidThis")  # indexed now


async def test_forgotten_user_is_gone_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    await fill(path)
    before = stored_bytes(path)
    assert all(marker in before for marker in [*ARIA, BRAM, ARIA_WORD])  # the check can see

    async with open_store(path) as store:
        await store.forget_user(7)
        while_open = stored_bytes(path)
        assert await store.count_messages(CHANNEL) == 50
    after_close = stored_bytes(path)

    for blob in (while_open, after_close):
        assert [marker for marker in [*ARIA, ARIA_WORD] if marker in blob] == []
        assert BRAM in blob


async def test_summaries_built_from_a_forgotten_user_are_gone_from_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "memory.sqlite3"
    await fill(path)
    async with open_store(path) as store:
        covered = (await store.messages_after(CHANNEL, None, limit=4))[-1].id  # the first lines
        for version in range(3):
            text = f"{ARIA_SUMMARY.decode()} v{version} " + "y" * 300
            await store.save_summary(CHANNEL, None, text, covered)
        await store.save_summary(CHANNEL, "vex", ARIA_SUMMARY.decode() + " as Vex saw it", covered)
        await store.save_summary(OTHER_CHANNEL, None, TABLE_SUMMARY.decode(), 1)
        assert await store.recall(CHANNEL, "AriaSummarised")
    assert ARIA_SUMMARY in stored_bytes(path)

    async with open_store(path) as store:
        counts = await store.forget_user(7)
        while_open = stored_bytes(path)
        assert await store.summary_history(CHANNEL, limit=10) == []
        assert await store.summary_history(CHANNEL, "vex", limit=10) == []
    after_close = stored_bytes(path)

    assert (counts["summaries"], counts["summary_channels"]) == (4, 1)
    for blob in (while_open, after_close):
        assert ARIA_SUMMARY not in blob
        assert SUMMARY_WORD not in blob
        assert TABLE_SUMMARY in blob  # a channel she never spoke in keeps its summary
        assert BRAM in blob


async def test_wiped_channel_is_gone_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    await fill(path)
    assert TABLE_TALK in stored_bytes(path)
    assert TABLE_WORD in stored_bytes(path)

    async with open_store(path) as store:
        await store.wipe_channel(OTHER_CHANNEL)
        while_open = stored_bytes(path)
    after_close = stored_bytes(path)

    for blob in (while_open, after_close):
        assert TABLE_TALK not in blob
        assert TABLE_WORD not in blob
        assert BRAM in blob
