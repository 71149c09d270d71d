"""Storing messages and replies: idempotency, swipes, Discord ids, edits and deletions."""

import pytest

from bot.memory import NotFoundError, Store
from bot.models import AuthorKind, ReplyStatus

from .helpers import CHANNEL, GUILD, OTHER_CHANNEL, FakeClock, human


async def test_add_message_stores_every_field(store: Store, clock: FakeClock) -> None:
    first = await store.add_message(human(1001, "Hi there", ooc=True))
    second = await store.add_message(human(1002, "again", reply_to_discord_id=1001, created_at=5.0))

    assert first.channel_id == CHANNEL
    assert first.guild_id == GUILD
    assert first.discord_id == 1001
    assert first.discord_ids == (1001,)
    assert (first.author_id, first.author_name) == (7, "Aria")
    assert first.kind is AuthorKind.HUMAN
    assert first.persona_id is None
    assert first.text == "Hi there"
    assert first.ooc is True
    assert first.status is ReplyStatus.COMPLETE
    assert (first.swipe_index, first.swipe_count) == (0, 1)
    assert first.created_at == clock.now
    assert first.edited is False
    assert second.reply_to == first.id
    assert second.created_at == 5.0
    assert second.id > first.id
    assert await store.get_message(first.id) == first


async def test_same_discord_message_is_stored_once(store: Store) -> None:
    first = await store.add_message(human(1001, "Hi"))
    again = await store.add_message(human(1001, "Hi (redelivered)"))

    assert again == first
    assert await store.count_messages(CHANNEL) == 1


async def test_reply_to_an_unknown_discord_message_is_none(store: Store) -> None:
    message = await store.add_message(human(1001, reply_to_discord_id=999_999))

    assert message.reply_to is None


async def test_reply_lifecycle(store: Store) -> None:
    asked = await store.add_message(human(1001, "Where is the key?"))

    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "The Narrator", asked.id)
    started = await store.get_message(reply_id)
    assert started is not None
    assert started.status is ReplyStatus.STREAMING
    assert started.text == ""
    assert started.kind is AuthorKind.PERSONA
    assert started.persona_id == "narrator"
    assert started.author_name == "The Narrator"
    assert started.author_id is None
    assert started.reply_to == asked.id
    assert started.discord_ids == ()

    await store.save_progress(reply_id, "The key is", [2001])
    partial = await store.get_message(reply_id)
    assert partial is not None
    assert (partial.text, partial.status, partial.discord_ids) == (
        "The key is",
        ReplyStatus.STREAMING,
        (2001,),
    )

    done = await store.finish_reply(
        reply_id, "The key is under the mat.", ReplyStatus.COMPLETE, [2001, 2002, 2003]
    )
    assert done.status is ReplyStatus.COMPLETE
    assert done.text == "The key is under the mat."
    assert done.discord_id == 2001
    assert done.discord_ids == (2001, 2002, 2003)
    assert await store.get_message(reply_id) == done
    for part in (2001, 2002, 2003):
        assert await store.get_by_discord_id(part) == done
    assert await store.find_reply(asked.id, "narrator") == done
    assert await store.find_reply(asked.id, "bard") is None


async def test_reply_discord_ids_can_shrink(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply_id, "long", ReplyStatus.COMPLETE, [2001, 2002, 2003])

    await store.set_discord_ids(reply_id, [2001])

    assert await store.get_by_discord_id(2003) is None
    found = await store.get_by_discord_id(2001)
    assert found is not None
    assert found.discord_ids == (2001,)


async def test_interrupted_reply_keeps_its_partial_text(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    done = await store.finish_reply(reply_id, "The storm bro", ReplyStatus.INTERRUPTED)

    assert (done.text, done.status) == ("The storm bro", ReplyStatus.INTERRUPTED)


async def test_finish_reply_rejects_streaming_and_unknown_ids(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    human_message = await store.add_message(human(1001))

    with pytest.raises(ValueError, match="streaming"):
        await store.finish_reply(reply_id, "x", ReplyStatus.STREAMING)
    with pytest.raises(NotFoundError):
        await store.finish_reply(reply_id + 100, "x", ReplyStatus.COMPLETE)
    with pytest.raises(NotFoundError):
        await store.finish_reply(human_message.id, "x", ReplyStatus.COMPLETE)
    with pytest.raises(NotFoundError):
        await store.save_progress(reply_id + 100, "x")


async def test_reply_to_a_message_deleted_meanwhile_is_kept_unlinked(store: Store) -> None:
    asked = await store.add_message(human(1001))
    await store.delete_message(1001)

    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator", asked.id)

    reply = await store.get_message(reply_id)
    assert reply is not None
    assert reply.reply_to is None


async def test_alternatives_are_kept_and_selectable(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply_id, "First take.", ReplyStatus.COMPLETE, [2001])

    regenerating = await store.add_alternative(reply_id)
    assert (regenerating.swipe_index, regenerating.swipe_count) == (1, 2)
    assert regenerating.status is ReplyStatus.STREAMING
    second = await store.finish_reply(reply_id, "Second take.", ReplyStatus.COMPLETE)
    third = await store.add_alternative(reply_id, "Third, cut", ReplyStatus.INTERRUPTED)
    assert (third.swipe_index, third.swipe_count, third.text) == (2, 3, "Third, cut")
    assert second.discord_ids == third.discord_ids == (2001,)

    shown = await store.select_alternative(reply_id, 0)
    assert (shown.text, shown.status, shown.swipe_index) == ("First take.", ReplyStatus.COMPLETE, 0)
    shown = await store.select_alternative(reply_id, 1)
    assert (shown.text, shown.swipe_index) == ("Second take.", 1)
    shown = await store.select_alternative(reply_id, 2)
    assert (shown.text, shown.status) == ("Third, cut", ReplyStatus.INTERRUPTED)
    assert await store.get_message(reply_id) == shown
    assert await store.count_messages(CHANNEL) == 1


async def test_select_alternative_rejects_bad_index_and_non_replies(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply_id, "Only one.", ReplyStatus.COMPLETE)
    human_message = await store.add_message(human(1001))

    assert (await store.select_alternative(reply_id, 0)).text == "Only one."
    with pytest.raises(IndexError):
        await store.select_alternative(reply_id, 1)
    with pytest.raises(IndexError):
        await store.select_alternative(reply_id, -1)
    with pytest.raises(NotFoundError):
        await store.select_alternative(human_message.id, 0)
    with pytest.raises(NotFoundError):
        await store.add_alternative(human_message.id, "x")


async def test_edit_marks_the_message_edited(store: Store, clock: FakeClock) -> None:
    await store.add_message(human(1001, "I cast fireball"))
    clock.advance(30)

    assert await store.edit_message(1001, "I cast magic missile") is True
    assert await store.edit_message(1001, "I cast magic missile") is False
    assert await store.edit_message(424242, "unknown") is False

    edited = await store.get_by_discord_id(1001)
    assert edited is not None
    assert edited.text == "I cast magic missile"
    assert edited.edited is True
    assert edited.edited_at == clock.now


async def test_editing_a_reply_edits_the_alternative_on_show(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply_id, "One.", ReplyStatus.COMPLETE, [2001, 2002])
    await store.add_alternative(reply_id, "Two.", ReplyStatus.COMPLETE)

    assert await store.edit_message(2002, "Two, fixed by an admin.") is True
    await store.select_alternative(reply_id, 0)
    shown = await store.select_alternative(reply_id, 1)

    assert shown.text == "Two, fixed by an admin."
    assert shown.edited is True


async def test_delete_forgets_the_message_and_unlinks_replies(store: Store) -> None:
    asked = await store.add_message(human(1001, "question"))
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator", asked.id)
    await store.finish_reply(reply_id, "answer", ReplyStatus.COMPLETE, [2001])

    assert await store.delete_message(1001) is True
    assert await store.delete_message(1001) is False

    assert await store.get_message(asked.id) is None
    reply = await store.get_message(reply_id)
    assert reply is not None
    assert reply.reply_to is None


async def test_deleting_any_part_of_a_reply_forgets_all_of_it(store: Store) -> None:
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.finish_reply(reply_id, "long", ReplyStatus.COMPLETE, [2001, 2002])
    await store.add_alternative(reply_id, "other", ReplyStatus.COMPLETE)

    assert await store.delete_message(2002) is True

    assert await store.get_message(reply_id) is None
    assert await store.get_by_discord_id(2001) is None
    assert await store.count_messages(CHANNEL) == 0


async def test_window_is_the_newest_messages_oldest_first(store: Store) -> None:
    ids = [(await store.add_message(human(1000 + n, f"line {n}"))).id for n in range(10)]
    await store.add_message(human(5000, "elsewhere", channel_id=OTHER_CHANNEL))

    window = await store.window(CHANNEL, limit=4)
    assert [m.text for m in window] == ["line 6", "line 7", "line 8", "line 9"]

    late_joiner = await store.window(CHANNEL, limit=100, after_id=ids[7])
    assert [m.text for m in late_joiner] == ["line 8", "line 9"]

    everything = await store.window(CHANNEL, limit=100)
    assert [m.id for m in everything] == ids
    assert await store.window(CHANNEL, limit=0) == []
    assert await store.window(999, limit=5) == []


async def test_messages_after_gives_the_oldest_first(store: Store) -> None:
    ids = [(await store.add_message(human(1000 + n, f"line {n}"))).id for n in range(6)]

    oldest = await store.messages_after(CHANNEL, None, limit=2)
    assert [m.text for m in oldest] == ["line 0", "line 1"]
    following = await store.messages_after(CHANNEL, ids[1], limit=3)
    assert [m.text for m in following] == ["line 2", "line 3", "line 4"]


async def test_latest_id_and_count(store: Store) -> None:
    assert await store.latest_id(CHANNEL) is None
    assert await store.count_messages(CHANNEL) == 0
    await store.add_message(human(1001))
    last = await store.add_message(human(1002))
    await store.add_message(human(5000, channel_id=OTHER_CHANNEL))

    assert await store.latest_id(CHANNEL) == last.id
    assert await store.count_messages(CHANNEL) == 2


async def test_rewind_forgets_what_came_after(store: Store) -> None:
    kept = [await store.add_message(human(1000 + n, f"line {n}")) for n in range(3)]
    reply_id = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator", kept[-1].id)
    await store.finish_reply(reply_id, "a reply", ReplyStatus.COMPLETE, [2001, 2002])
    await store.add_message(human(1010, "after the reply"))
    await store.add_message(human(5000, "other channel", channel_id=OTHER_CHANNEL))
    old_summary = await store.save_summary(CHANNEL, None, "up to line 1", kept[1].id)
    await store.save_summary(CHANNEL, None, "includes the reply", reply_id)

    assert await store.rewind(CHANNEL, kept[-1].discord_id or 0) == 2

    assert [m.text for m in await store.window(CHANNEL, limit=10)] == [
        "line 0",
        "line 1",
        "line 2",
    ]
    assert await store.get_by_discord_id(2002) is None
    assert await store.count_messages(OTHER_CHANNEL) == 1
    assert await store.get_summary(CHANNEL) == old_summary
    newer = await store.add_message(human(1020, "a new branch"))
    assert newer.id > reply_id


async def test_rewind_needs_a_message_of_that_channel(store: Store) -> None:
    await store.add_message(human(5000, channel_id=OTHER_CHANNEL))

    with pytest.raises(NotFoundError):
        await store.rewind(CHANNEL, 5000)
    with pytest.raises(NotFoundError):
        await store.rewind(CHANNEL, 123)


async def test_a_restart_leaves_unfinished_replies_for_the_runtime_to_finish(
    store: Store, reopen, clock: FakeClock
) -> None:
    first = await store.begin_reply(CHANNEL, GUILD, "narrator", "Narrator")
    await store.save_progress(first, "Half a sent", [2001, 2002])
    swiped = await store.begin_reply(CHANNEL, GUILD, "bard", "Bard")
    await store.finish_reply(swiped, "Done.", ReplyStatus.COMPLETE)
    await store.add_alternative(swiped, "Regenerat", ReplyStatus.STREAMING)
    elsewhere = await store.begin_reply(OTHER_CHANNEL, GUILD, "sage", "Sage")
    await store.close()
    clock.advance(11 * 60)

    async with reopen() as restarted:
        unfinished = await restarted.unfinished_replies()
        assert [(r.id, r.text, r.status) for r in unfinished] == [
            (first, "Half a sent", ReplyStatus.STREAMING),
            (swiped, "Regenerat", ReplyStatus.STREAMING),
            (elsewhere, "", ReplyStatus.STREAMING),
        ]
        assert unfinished[0].discord_ids == (2001, 2002)
        assert [r.id for r in await restarted.unfinished_replies([CHANNEL])] == [first, swiped]
        assert [r.id for r in await restarted.unfinished_replies([OTHER_CHANNEL])] == [elsewhere]
        assert await restarted.unfinished_replies([]) == []

        for reply in unfinished[:2]:
            await restarted.finish_reply(
                reply.id, reply.text, ReplyStatus.INTERRUPTED, reply.discord_ids
            )
        assert [r.id for r in await restarted.unfinished_replies()] == [elsewhere]
        cut = await restarted.get_by_discord_id(2002)
        assert cut is not None
        assert (cut.id, cut.text, cut.status) == (first, "Half a sent", ReplyStatus.INTERRUPTED)
        assert (await restarted.select_alternative(swiped, 0)).status is ReplyStatus.COMPLETE
        back = await restarted.select_alternative(swiped, 1)
        assert (back.text, back.status) == ("Regenerat", ReplyStatus.INTERRUPTED)
