"""Webhooks and threads: send/edit with thread_id, permission and deletion errors, proxies."""

from __future__ import annotations

import asyncio

import discord
import pytest

from tests.fakes.discord import Permission, running


async def test_webhook_create_send_edit_in_thread(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        hook = await channel.create_webhook(name="Personas")
        starter = await channel.send("Scene: the cellar")
        thread = await starter.create_thread(name="cellar")
        assert thread.id == starter.id
        await fake.wait_until(lambda: bot.get_channel(thread.id) is not None)

        sent = await hook.send(
            "I hold the lantern.",
            username="Mira the Bard",
            avatar_url="https://example.test/mira.png",
            thread=thread,
            wait=True,
        )
        await sent.edit(content="I raise the lantern.")
        stored = fake.message(sent.id)
        assert stored.channel_id == thread.id
        assert stored.webhook_id == hook.id
        assert stored.username == "Mira the Bard"
        assert stored.avatar_url == "https://example.test/mira.png"
        assert stored.content == "I raise the lantern."
        assert stored.payload["author"]["bot"] is True
        edit = fake.requests("PATCH", f"/webhooks/{hook.id}/*/messages/{sent.id}")[0]
        assert edit.query["thread_id"] == str(thread.id)
        # Editing a thread message without thread_id is an unknown message, as on Discord.
        with pytest.raises(discord.NotFound) as info:
            await hook.edit_message(sent.id, content="lost")
        assert info.value.code == 10008


async def test_thread_without_message_and_sending_into_it(fake, seed, make_bot):
    bot = make_bot()
    created: list[int] = []

    async def on_thread_create(thread: discord.Thread) -> None:
        created.append(thread.id)

    bot.add_listener(on_thread_create)
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        thread = await channel.create_thread(
            name="side quest", type=discord.ChannelType.public_thread
        )
        await thread.send("Into the woods")
        await fake.wait_until(lambda: created == [thread.id])
        assert [m.content for m in fake.messages_in(thread.id)] == ["Into the woods"]
        user_thread = await fake.user_creates_thread(seed.channel.id, seed.alice.id, "alice's")
        await fake.wait_until(lambda: user_thread.id in created)
        assert bot.get_channel(user_thread.id).owner_id == seed.alice.id


async def test_create_webhook_without_manage_webhooks_is_403_50013(fake, seed, make_bot):
    fake.deny_bot(seed.channel.id, Permission.MANAGE_WEBHOOKS)
    bot = make_bot()
    async with running(fake, bot):
        with pytest.raises(discord.Forbidden) as info:
            await bot.get_channel(seed.channel.id).create_webhook(name="Personas")
        assert info.value.code == 50013
        assert fake.world.webhooks == {}


async def test_webhook_deleted_under_the_bot_and_bad_token(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        hook = await bot.get_channel(seed.channel.id).create_webhook(name="Personas")
        listed = await bot.get_channel(seed.channel.id).webhooks()
        assert [w.id for w in listed] == [hook.id]
        forged = discord.Webhook.partial(hook.id, "wrong-token", client=bot)
        with pytest.raises(discord.HTTPException) as bad:
            await forged.send("hi", wait=True)
        assert bad.value.status == 401 and bad.value.code == 50027
        await fake.delete_webhook(hook.id)
        with pytest.raises(discord.NotFound) as gone:
            await hook.send("hello?", wait=True)
        assert gone.value.code == 10015


async def test_webhook_username_rules(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        hook = await bot.get_channel(seed.channel.id).create_webhook(name="Personas")
        with pytest.raises(discord.HTTPException) as info:
            await hook.send("hi", username="Discord Official", wait=True)
        assert info.value.code == 50035


async def test_proxy_message_replaces_original(fake, seed, make_bot):
    bot = make_bot()
    seen: asyncio.Queue[discord.Message] = asyncio.Queue()
    deleted: list[int] = []

    async def on_message(message: discord.Message) -> None:
        seen.put_nowait(message)

    async def on_raw_message_delete(payload: discord.RawMessageDeleteEvent) -> None:
        deleted.append(payload.message_id)

    bot.add_listener(on_message)
    bot.add_listener(on_raw_message_delete)
    async with running(fake, bot):
        original = await fake.user_says(seed.channel.id, seed.alice.id, "k: I draw my sword")
        proxied = await fake.proxy_says(
            seed.channel.id, "Kael", "I draw my sword", replaces=int(original["id"])
        )
        first = await asyncio.wait_for(seen.get(), 2)
        second = await asyncio.wait_for(seen.get(), 2)
        assert first.id == int(original["id"])
        assert second.webhook_id is not None and second.author.bot
        assert second.author.name == "Kael" and second.content == "I draw my sword"
        await fake.wait_until(lambda: deleted == [int(original["id"])])
        assert [m.id for m in fake.messages_in(seed.channel.id)] == [int(proxied["id"])]


async def test_threads_can_be_archived_and_reopen_on_post(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        thread = await bot.get_channel(seed.channel.id).create_thread(
            name="scene 1", type=discord.ChannelType.public_thread
        )
        await thread.edit(archived=True, name="scene 1 (ended)")
        stored = fake.world.channels[thread.id]
        assert stored.archived and stored.name == "scene 1 (ended)"
        update = fake.dispatched("THREAD_UPDATE")[-1]
        assert update.data["thread_metadata"]["archived"] is True
        await thread.send("epilogue")
        assert not stored.archived
        # The default bot role has no MANAGE_CHANNELS.
        with pytest.raises(discord.Forbidden) as info:
            await bot.get_channel(seed.channel.id).edit(topic="Harbour at dusk")
        assert info.value.code == 50013
