"""Streaming into Discord: first text at once, paced edits, splits, mentions, faces."""

import asyncio
import itertools
import re
import time

from tests.fakes.model_server import Reply
from tests.harness import running_scene

MANAGE_WEBHOOKS = 1 << 29


def channel_writes(scene, channel_id=None):
    """Requests that spend the channel's message budget: creates and edits, bot or webhook."""
    channel_id = channel_id or scene.channel.id
    own = {m.id for m in scene.persona_messages(channel_id)} | {
        m.id for m in scene.fake.world.messages.values() if m.deleted
    }
    writes = []
    for request in scene.fake.requests():
        if request.method not in ("POST", "PATCH", "DELETE"):
            continue
        path = request.path
        if path == f"/channels/{channel_id}/messages" or path.startswith(
            f"/channels/{channel_id}/messages/"
        ):
            writes.append(request)
        elif (
            path.startswith("/webhooks/") and "/messages/" not in path and request.method == "POST"
        ):
            if "interactions" not in path and request.status < 300:
                writes.append(request)
        elif path.startswith("/webhooks/") and "/messages/" in path:
            message_id = path.rsplit("/", 1)[-1]
            if message_id.isdigit() and int(message_id) in own:
                writes.append(request)
    return writes


def message_bodies(scene):
    return [
        r.json
        for r in scene.fake.requests()
        if r.method in ("POST", "PATCH") and isinstance(r.json, dict) and "content" in r.json
    ]


async def test_first_text_at_once_then_paced_edits_within_the_channel_budget(tmp_path):
    async with running_scene(tmp_path, stream_edit_interval=1.0) as scene:
        scene.fake.rate_limit(limit=5, window=5.0, headers=True)
        await scene.enable(cast=("narrator",))
        words = [f"word{n} " for n in range(30)]
        scene.model.script(Reply(chunks=words, chunk_delay=0.1))
        await scene.say(scene.alice, "Narrator, tell me a long tale.")
        reply = await scene.wait_for_reply("word29", timeout=15)
        assert reply.content == "".join(words).rstrip()
        writes = channel_writes(scene)
        assert scene.fake.rate_limit_hits == 0
        assert all(r.status < 300 for r in writes)
        for i, request in enumerate(writes):
            in_window = [w for w in writes[i:] if w.at - request.at < 5.0]
            assert len(in_window) <= 5, "more than 5 writes in 5 s in one channel"
        model_request = scene.model.requests[0]
        first_send = writes[0]
        assert first_send.method == "POST"
        assert first_send.at - model_request.first_token_at < 0.25
        edits = [w for w in writes if w.method == "PATCH"]
        gaps = [b.at - a.at for a, b in itertools.pairwise(edits)]
        assert all(gap >= 0.9 for gap in gaps[:-1]), gaps  # the final edit may follow at once
        assert edits[-1].at - model_request.last_token_at < 0.5
        streamed = [e.json.get("content", "") for e in edits[:-1]]
        assert any(c.endswith("▌") for c in streamed)
        assert not edits[-1].json["content"].endswith("▌")


async def test_surprise_429s_lose_no_text(tmp_path):
    async with running_scene(tmp_path, stream_edit_interval=0.1) as scene:
        scene.fake.rate_limit(limit=2, window=0.5, headers=False)
        await scene.enable(cast=("narrator",))
        text = "".join(f"beat {n}. " for n in range(40))
        scene.model.script(Reply(text=text, chunk_delay=0.02))
        await scene.say(scene.alice, "Narrator, go.")
        reply = await scene.wait_for_reply("beat 39.", timeout=15)
        assert reply.content == text.rstrip() or reply.content == text


async def test_long_reply_splits_cleanly_and_no_body_exceeds_2000(tmp_path):
    async with running_scene(tmp_path, stream_edit_interval=0.05) as scene:
        await scene.enable(cast=("narrator",))
        paragraph = (
            "The **lighthouse keeper** counts the waves aloud, one by one, while the gulls "
            "argue overhead about the price of herring. "
        ) * 4
        text = "\n\n".join(f"{n}. {paragraph.strip()}" for n in range(12))
        assert len(text) > 5000
        scene.model.script(Reply(text=text, chunk_delay=0.002))
        await scene.say(scene.alice, "Narrator, describe everything.")
        await scene.fake.wait_until(
            lambda: (
                "11. The" in "".join(m.content for m in scene.persona_messages())
                and not scene.persona_messages()[-1].content.endswith("▌")
            ),
            timeout=15,
        )
        parts = [m.content for m in scene.persona_messages()]
        assert len(parts) >= 3
        assert all(len(p) <= 2000 for p in parts)
        for part in parts:
            assert part.count("**") % 2 == 0, "bold split across messages"
            assert re.search(r"\w$", part.rstrip(".")) or part.endswith((".", "*"))
        assert "\n\n".join(p.strip() for p in parts) == text
        for body in message_bodies(scene):
            assert len(body["content"]) <= 2000


async def test_model_mentions_never_ping_anyone(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        role = scene.fake.add_role(scene.guild.id, "Moderators")
        text = f"@everyone @here <@&{role.id}> <@{scene.alice.id}> the harbour bell rings!"
        scene.model.script(Reply(text=text))
        await scene.say(scene.alice, "Narrator, ring the bell.")
        await scene.wait_for_reply("harbour bell")
        bodies = [b for b in message_bodies(scene) if "harbour bell" in b["content"]]
        assert bodies
        for body in bodies:
            assert body["allowed_mentions"]["parse"] == []
            assert not body["allowed_mentions"].get("users")
            assert not body["allowed_mentions"].get("roles")
        final = scene.persona_messages()[-1]
        assert final.payload["mention_everyone"] is False
        assert final.payload["mentions"] == []
        assert final.payload["mention_roles"] == []


async def test_persona_posts_under_its_own_name_and_avatar(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator", "vex"))
        scene.model.script(Reply(text="Vex flips a coin."))
        await scene.say(scene.alice, "Vex, heads or tails?")
        reply = await scene.wait_for_reply("Vex flips a coin.")
        assert reply.webhook_id is not None
        assert reply.username == "Vex"
        created = scene.fake.requests("POST", "/channels/*/webhooks")
        assert len(created) == 2  # one per cast member, made when the scene started
        scene.model.script(Reply(text="Tails, obviously."))
        await scene.say(scene.alice, "Vex, again!")
        await scene.wait_for_reply("Tails, obviously.", count=2)
        assert len(scene.fake.requests("POST", "/channels/*/webhooks")) == 2  # reused


async def test_deleted_webhook_is_recreated(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("vex",))
        scene.model.script(Reply(text="First."), Reply(text="Second."))
        await scene.say(scene.alice, "Vex?")
        first = await scene.wait_for_reply("First.")
        await scene.fake.delete_webhook(first.webhook_id)
        await scene.say(scene.alice, "Vex, again?")
        second = await scene.wait_for_reply("Second.", count=2)
        assert second.webhook_id != first.webhook_id


async def test_without_manage_webhooks_falls_back_and_tells_admins_once(tmp_path):
    async with running_scene(tmp_path) as scene:
        scene.fake.deny_bot(scene.channel.id, MANAGE_WEBHOOKS)
        await scene.enable(cast=("vex",))
        scene.model.script(Reply(text="Coin's gone."), Reply(text="Still gone."))
        await scene.say(scene.alice, "Vex, the coin?")
        reply = await scene.wait_for_reply("Coin's gone.")
        assert reply.webhook_id is None
        assert reply.content == "**Vex**\nCoin's gone."
        await scene.say(scene.alice, "Vex, really?")
        await scene.wait_for_reply("Still gone.", count=2)
        await scene.settle(0.3)
        dm = scene.fake.dm_channel(scene.admin.id)
        notices = [m for m in scene.fake.messages_in(dm.id) if "Manage Webhooks" in m.content]
        assert len(notices) == 1


async def test_typing_shows_until_the_first_token(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(text="Finally.", first_byte_delay=0.4))
        await scene.say(scene.alice, "Narrator?")
        await scene.wait_for_reply("Finally.")
        typing = scene.fake.requests("POST", f"/channels/{scene.channel.id}/typing")
        assert typing
        first_write = channel_writes(scene)[0]
        assert typing[0].at < first_write.at


async def test_threads_are_scenes_too(tmp_path):
    async with running_scene(tmp_path) as scene:
        thread = await scene.fake.user_creates_thread(scene.channel.id, scene.alice.id, "Side")
        await scene.enable(cast=("vex",), channel_id=thread.id)
        scene.model.script(Reply(text="In the thread."))
        await scene.say(scene.alice, "Vex, here?", channel_id=thread.id)
        reply = await scene.wait_for_reply("In the thread.", channel_id=thread.id)
        assert reply.webhook_id is not None
        executes = scene.fake.requests("POST", "/webhooks/*")
        assert any(r.query.get("thread_id") == str(thread.id) for r in executes)


async def test_message_deleted_mid_stream_ends_cleanly_and_is_forgotten(tmp_path):
    async with running_scene(tmp_path, stream_edit_interval=0.05) as scene:
        await scene.enable(cast=("narrator",))
        scene.model.script(Reply(chunks=[f"part{n} " for n in range(40)], chunk_delay=0.05))
        await scene.say(scene.alice, "Narrator, talk.")
        first = await scene.fake.wait_until(lambda: next(iter(scene.persona_messages()), None))
        await scene.fake.user_deletes(first.id)
        await scene.fake.wait_until(
            lambda: not scene.services.runtime.is_busy(scene.channel.id),
            timeout=5,
        )
        await scene.settle(0.3)
        window = await scene.services.store.window(scene.channel.id, limit=10)
        assert [r.author_name for r in window] == ["Alice"]
        scene.model.script(Reply(text="Where was I?"))
        await scene.say(scene.alice, "Narrator?")
        await scene.wait_for_reply("Where was I?")


async def test_channels_stream_in_parallel(tmp_path):
    def add_docks(fake):
        guild_id = next(iter(fake.world.guilds))
        fake.add_text_channel(guild_id, "docks")

    async with running_scene(tmp_path, setup=add_docks) as scene:
        docks = next(c for c in scene.fake.world.channels.values() if c.name == "docks")
        await scene.enable(cast=("narrator",))
        await scene.enable(cast=("narrator",), channel_id=docks.id)
        scene.model.script(Reply(text="Tavern.", first_byte_delay=1.0), Reply(text="Docks."))
        await scene.say(scene.alice, "Narrator, tavern?")
        await scene.fake.wait_until(lambda: scene.model.requests, timeout=5)
        await scene.say(scene.bob, "Narrator, docks?", channel_id=docks.id)
        docks_reply = await scene.wait_for_reply("Docks.", channel_id=docks.id)
        assert not scene.persona_messages()  # the tavern is still waiting for its model
        tavern_reply = await scene.wait_for_reply("Tavern.")
        assert docks_reply.id < tavern_reply.id


async def test_webhooks_are_used_again_once_the_permission_is_granted(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.ui.targets.DENIED_RETRY_SECONDS", 0.2)
    async with running_scene(tmp_path) as scene:
        scene.fake.deny_bot(scene.channel.id, MANAGE_WEBHOOKS)
        await scene.enable(cast=("vex",))
        scene.model.script(Reply(text="As the bot."), Reply(text="As myself."))
        await scene.say(scene.alice, "Vex?")
        before = await scene.wait_for_reply("As the bot.")
        assert before.webhook_id is None
        scene.fake.set_overwrite(scene.channel.id, scene.fake.bot_user.id)  # granted again
        await scene.settle(0.3)
        await scene.say(scene.alice, "Vex, now?")
        after = await scene.wait_for_reply("As myself.", count=2)
        assert after.webhook_id is not None


async def test_reply_row_is_written_during_the_model_request_and_before_the_first_text(tmp_path):
    async with running_scene(tmp_path) as scene:
        await scene.enable(cast=("narrator",))
        store = scene.services.store
        original = store.begin_reply
        stored_at: list[float] = []

        async def slow_begin_reply(**fields):
            await asyncio.sleep(0.3)  # a busy database
            reply_id = await original(**fields)
            stored_at.append(time.monotonic())
            return reply_id

        store.begin_reply = slow_begin_reply
        scene.model.script(Reply(chunks=["The ", "lamps ", "flicker."]))
        await scene.say(scene.alice, "Narrator, what do I see?")
        reply = await scene.wait_for_reply("flicker.", timeout=10)

        assert reply.content == "The lamps flicker."
        model_request = scene.model.requests[0]
        first_write = channel_writes(scene)[0]
        # The model request did not wait for the database write...
        assert model_request.arrived_at < stored_at[0]
        # ...but no text reached Discord before the reply's memory row existed.
        assert first_write.at > stored_at[0]
        row = await store.get_by_discord_id(reply.id)
        assert row is not None and row.text == "The lamps flicker."
