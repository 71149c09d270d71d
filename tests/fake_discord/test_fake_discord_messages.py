"""The bot's own message traffic: send, reply, edit, delete, validation, mentions and faults."""

from __future__ import annotations

import asyncio
import time

import discord
import pytest

from tests.fakes.discord import FakeDiscord, running


async def test_send_reply_edit_delete_round_trip(fake, seed, make_bot):
    bot = make_bot()
    seen: list[int] = []

    async def on_message(message: discord.Message) -> None:
        seen.append(message.id)

    bot.add_listener(on_message)
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        assert isinstance(channel, discord.TextChannel)
        user_msg = await fake.user_says(seed.channel.id, seed.alice.id, "roll for initiative")

        sent = await channel.send("The tavern door creaks.")
        cached = await channel.fetch_message(int(user_msg["id"]))
        reply = await cached.reply("A stranger enters.")
        await sent.edit(content="The tavern door slams.")
        await reply.delete()

        stored = fake.messages_in(seed.channel.id)
        assert [m.content for m in stored] == ["roll for initiative", "The tavern door slams."]
        assert stored[1].author_id == fake.bot_user.id
        assert stored[1].content_history == ["The tavern door creaks.", "The tavern door slams."]
        replied = fake.message(reply.id)
        assert replied.deleted
        assert replied.payload["type"] == 19
        assert replied.payload["message_reference"]["message_id"] == user_msg["id"]
        assert replied.payload["referenced_message"]["content"] == "roll for initiative"
        # The bot's own messages come back over the gateway, like on Discord.
        await fake.wait_until(lambda: sent.id in seen and reply.id in seen)
        assert [e.event for e in fake.dispatched() if e.event.startswith("MESSAGE_")][-3:] == [
            "MESSAGE_CREATE",
            "MESSAGE_UPDATE",
            "MESSAGE_DELETE",
        ]


async def test_allowed_mentions_none_suppresses_pings(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        msg = await channel.send(f"@everyone look, <@{seed.alice.id}>!")
        stored = fake.message(msg.id)
        assert stored.allowed_mentions == {"parse": []}
        assert stored.payload["mentions"] == []
        assert stored.payload["mention_everyone"] is False
        pinging = await channel.send(
            f"<@{seed.alice.id}>", allowed_mentions=discord.AllowedMentions(users=True)
        )
        assert [u["id"] for u in fake.message(pinging.id).payload["mentions"]] == [
            str(seed.alice.id)
        ]
        request = fake.requests("POST", f"/channels/{seed.channel.id}/messages")[0]
        assert request.json["allowed_mentions"] == {"parse": []}
        assert request.headers["Authorization"] == "Bot <redacted>"


async def test_content_over_2000_is_rejected_with_50035(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        with pytest.raises(discord.HTTPException) as info:
            await channel.send("x" * 2001)
        assert info.value.status == 400 and info.value.code == 50035
        assert "In content: Must be 2000 or fewer in length." in info.value.text
        ok = await channel.send("x" * 2000)
        with pytest.raises(discord.HTTPException) as edit_info:
            await ok.edit(content="y" * 2001)
        assert edit_info.value.code == 50035
        with pytest.raises(discord.HTTPException) as embed_info:
            await channel.send(embed=discord.Embed(description="z" * 4097))
        assert embed_info.value.code == 50035
        assert [m.content for m in fake.messages_in(seed.channel.id)] == ["x" * 2000]


async def test_deleted_stream_target_gives_404_10008(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        msg = await channel.send("streaming…")
        await fake.user_deletes(msg.id)
        with pytest.raises(discord.NotFound) as info:
            await msg.edit(content="streaming… more")
        assert info.value.code == 10008


async def test_missing_channel_and_permission_errors(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        with pytest.raises(discord.NotFound) as unknown:
            await bot.http.send_message(123456789012345678, params=_params("hi"))
        assert unknown.value.code == 10003
        fake.deny_bot(seed.channel.id, discord.Permissions(send_messages=True).value)
        with pytest.raises(discord.Forbidden) as forbidden:
            await bot.get_channel(seed.channel.id).send("hi")
        assert forbidden.value.code == 50013


def _params(content: str):
    from discord.http import handle_message_parameters

    return handle_message_parameters(content=content)


async def test_fail_next_500_is_retried_by_discord_py(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        fake.fail_next("POST", "/channels/*/messages", 500)
        msg = await bot.get_channel(seed.channel.id).send("after a hiccup")
        statuses = [r.status for r in fake.requests("POST", "/channels/*/messages")]
        assert statuses == [500, 200]
        assert fake.message(msg.id).content == "after a hiccup"


async def test_fail_next_with_code_and_latency(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        fake.fail_next("POST", "/channels/*/messages", 403, 50013, message="Missing Permissions")
        with pytest.raises(discord.Forbidden) as info:
            await channel.send("nope")
        assert info.value.code == 50013
        fake.latency(0.1, "/channels/*/typing")
        started = time.monotonic()
        await channel.typing()
        assert time.monotonic() - started >= 0.1
        fake.latency(0, "/channels/*/typing")


async def test_unknown_route_is_a_json_404_naming_it(fake, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        with pytest.raises(discord.NotFound) as info:
            await bot.http.request(discord.http.Route("GET", "/stickers/{s}", s=1))
        assert "GET /api/v10/stickers/1" in info.value.text


async def test_bad_token_fails_login(fake, make_bot):
    from tests.fakes.discord import pointed_at

    bot = make_bot()
    with pointed_at(fake):
        with pytest.raises(discord.LoginFailure):
            await bot.login("not-the-token")
        await bot.close()


async def test_history_pagination_and_typing(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        for n in range(5):
            await fake.user_says(seed.channel.id, seed.bob.id, f"line {n}")
        channel = bot.get_channel(seed.channel.id)
        newest = [m.content async for m in channel.history(limit=3)]
        assert newest == ["line 4", "line 3", "line 2"]
        oldest = [m.content async for m in channel.history(limit=10, oldest_first=True)]
        assert oldest == [f"line {n}" for n in range(5)]
        async with channel.typing():
            pass
        assert fake.requests("POST", f"/channels/{seed.channel.id}/typing")[0].status == 204


async def test_user_actor_events_reach_the_bot(fake, seed, make_bot):
    bot = make_bot()
    events: list[str] = []

    async def on_message_edit(before: discord.Message, after: discord.Message) -> None:
        events.append(f"edit:{after.content}")

    async def on_raw_message_delete(payload: discord.RawMessageDeleteEvent) -> None:
        events.append(f"delete:{payload.message_id}")

    async def on_typing(channel, user, when) -> None:
        events.append(f"typing:{user.id}")

    for listener in (on_message_edit, on_raw_message_delete, on_typing):
        bot.add_listener(listener)
    async with running(fake, bot):
        msg = await fake.user_says(seed.channel.id, seed.alice.id, "typo")
        await fake.user_edits(int(msg["id"]), "fixed")
        await fake.user_types(seed.channel.id, seed.bob.id)
        await fake.user_deletes(int(msg["id"]))
        await fake.wait_until(lambda: len(events) == 3)
        assert events == ["edit:fixed", f"typing:{seed.bob.id}", f"delete:{msg['id']}"]


async def test_attachments_are_served_and_uploaded(fake, seed, make_bot):
    bot = make_bot()
    got: asyncio.Queue[discord.Message] = asyncio.Queue()

    async def on_message(message: discord.Message) -> None:
        if message.author.id != bot.user.id:
            got.put_nowait(message)

    bot.add_listener(on_message)
    async with running(fake, bot):
        await fake.user_says(
            seed.channel.id, seed.alice.id, "my sheet", attachments=[("sheet.txt", b"STR 18")]
        )
        message = await asyncio.wait_for(got.get(), 2)
        assert await message.attachments[0].read() == b"STR 18"
        import io

        sent = await message.channel.send("noted", file=discord.File(io.BytesIO(b"ok"), "ack.txt"))
        upload = fake.requests("POST", "/channels/*/messages")[-1]
        assert upload.json["content"] == "noted"
        assert [(f.filename, f.data) for f in upload.files] == [("ack.txt", b"ok")]
        assert await sent.attachments[0].read() == b"ok"


async def test_a_crash_inside_the_fake_fails_fast_and_is_kept(make_bot, monkeypatch):
    async with FakeDiscord() as fake:
        fake.seed()
        bot = make_bot()
        async with running(fake, bot):

            def broken(guild_id):
                raise RuntimeError("boom")

            monkeypatch.setattr(fake._core.commands, "in_scope", broken)
            started = time.monotonic()
            with pytest.raises(discord.HTTPException) as info:
                await bot.tree.fetch_commands()
            assert info.value.code == -1 and "boom" in info.value.text
            assert time.monotonic() - started < 0.5
            assert len(fake.internal_errors) == 1 and "RuntimeError" in fake.internal_errors[0]
