"""A call writing several rows writes all of them or none."""

import pytest

from bot.memory import Store, StoreError
from bot.models import ReplyStatus

from .helpers import CHANNEL, GUILD


async def test_failed_finish_reply_changes_nothing(store: Store) -> None:
    taken = await store.begin_reply(CHANNEL, GUILD, "bard", "Bard")
    await store.finish_reply(taken, "mine", ReplyStatus.COMPLETE, [3001, 3002])
    reply = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.save_progress(reply, "so far", [2001])

    # Its last part is already another reply's: the final write of the parts fails.
    with pytest.raises(StoreError):
        await store.finish_reply(reply, "all of it", ReplyStatus.COMPLETE, [2001, 2002, 3002])

    unchanged = await store.get_message(reply)
    assert unchanged is not None
    assert (unchanged.text, unchanged.status, unchanged.discord_ids) == (
        "so far",
        ReplyStatus.STREAMING,
        (2001,),
    )
    assert await store.get_by_discord_id(2002) is None
    other = await store.get_by_discord_id(3002)
    assert other is not None
    assert other.id == taken
    assert await store.integrity_check() == []
