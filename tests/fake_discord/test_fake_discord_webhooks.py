"""Webhooks and threads: send/edit with thread_id, permission and deletion errors, proxies."""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib

import discord
import pytest

from tests.fakes.discord import Permission, running


def tiny_png(rgb: tuple[int, int, int]) -> bytes:
    """A 1×1 RGB PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" + bytes(rgb)))
        + chunk(b"IEND", b"")
    )


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


async def test_webhook_avatar_from_image_data_on_create_and_modify(fake, seed, make_bot):
    red, blue = tiny_png((255, 0, 0)), tiny_png((0, 0, 255))
    bot = make_bot()
    async with running(fake, bot):
        channel = bot.get_channel(seed.channel.id)
        hook = await channel.create_webhook(name="Personas", avatar=red)
        create = fake.requests("POST", f"/channels/{seed.channel.id}/webhooks")[-1]
        assert create.json["avatar"] == "data:image/png;base64," + base64.b64encode(red).decode()
        stored = fake.world.webhooks[hook.id]
        assert stored.avatar_image == red and stored.avatar_type == "image/png"
        assert stored.avatar is not None and len(stored.avatar) == 32
        assert hook.avatar is not None and hook.avatar.key == stored.avatar
        red_hash = stored.avatar

        sent = await hook.send("I hold the lantern.", username="Mira", wait=True)
        assert fake.message(sent.id).payload["author"]["avatar"] == red_hash
        assert fake.message(sent.id).avatar_url is None

        edited = await hook.edit(avatar=blue)
        assert stored.avatar_image == blue and stored.avatar not in (None, red_hash)
        assert edited.avatar is not None and edited.avatar.key == stored.avatar
        listed = await channel.webhooks()
        assert [w.avatar.key for w in listed if w.avatar] == [stored.avatar]

        # With the webhook's own token (PATCH /webhooks/{id}/{token}) as well; None clears it.
        by_token = discord.Webhook.from_url(hook.url, client=bot)
        await by_token.edit(avatar=red, prefer_auth=False)
        assert stored.avatar == red_hash
        await hook.edit(avatar=None)
        assert stored.avatar is None and stored.avatar_image is None
        assert fake.requests("PATCH", f"/webhooks/{hook.id}/*")[-1].status == 200


@pytest.mark.parametrize(
    "avatar",
    [
        "not a data uri",
        "https://example.test/mira.png",
        "data:text/plain;base64,aGVsbG8=",
        "data:image/png;base64,!!!not-base64!!!",
        "data:image/png;base64," + base64.b64encode(b"GIF89a pretending").decode(),
        "data:image/png;base64,",
        42,
    ],
)
async def test_bad_webhook_avatar_is_50035_and_changes_nothing(fake, seed, make_bot, avatar):
    bot = make_bot()
    async with running(fake, bot):
        create = discord.http.Route(
            "POST", "/channels/{channel_id}/webhooks", channel_id=seed.channel.id
        )
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.request(create, json={"name": "Personas", "avatar": avatar})
        assert info.value.status == 400 and info.value.code == 50035
        assert "avatar" in str(info.value)
        assert fake.world.webhooks == {}

        hook = await bot.get_channel(seed.channel.id).create_webhook(
            name="Personas", avatar=tiny_png((1, 2, 3))
        )
        before = fake.world.webhooks[hook.id].avatar
        modify = discord.http.Route("PATCH", "/webhooks/{webhook_id}", webhook_id=hook.id)
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.request(modify, json={"name": "Renamed", "avatar": avatar})
        assert info.value.code == 50035
        stored = fake.world.webhooks[hook.id]
        assert (stored.name, stored.avatar) == ("Personas", before)
