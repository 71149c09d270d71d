"""MESSAGE_CONTENT emulation, privileged intents (4014) and member chunking."""

from __future__ import annotations

import asyncio

import discord
import pytest

from tests.fakes.discord import FakeDiscord, Intent, running


async def _collect(bot) -> asyncio.Queue[discord.Message]:
    queue: asyncio.Queue[discord.Message] = asyncio.Queue()

    async def on_message(message: discord.Message) -> None:
        queue.put_nowait(message)

    bot.add_listener(on_message)
    return queue


async def test_without_message_content_only_mentions_and_own_messages_are_readable(
    fake, seed, make_bot
):
    intents = discord.Intents.default()  # no message_content
    bot = make_bot(intents=intents)
    got = await _collect(bot)
    async with running(fake, bot):
        await fake.user_says(
            seed.channel.id, seed.alice.id, "secret plan", embeds=[{"description": "hidden"}]
        )
        hidden = await asyncio.wait_for(got.get(), 2)
        assert hidden.content == "" and hidden.embeds == []

        await fake.user_says(seed.channel.id, seed.alice.id, f"<@{fake.bot_user.id}> hi bot")
        mentioned = await asyncio.wait_for(got.get(), 2)
        assert mentioned.content == f"<@{fake.bot_user.id}> hi bot"
        assert bot.user in mentioned.mentions

        reply_target = await bot.get_channel(seed.channel.id).send("I speak")
        own = await asyncio.wait_for(got.get(), 2)
        assert own.content == "I speak"
        await fake.user_says(seed.channel.id, seed.bob.id, "answering", reply_to=reply_target.id)
        reply = await asyncio.wait_for(got.get(), 2)
        assert reply.content == "answering"  # a pinging reply mentions the bot

        dm = fake.dm_channel(seed.alice.id)
        await fake.user_says(dm.id, seed.alice.id, "psst")
        private = await asyncio.wait_for(got.get(), 2)
        assert private.content == "psst" and private.guild is None
        # The fake keeps the real content; only the bot's view is redacted.
        assert fake.messages_in(seed.channel.id)[0].content == "secret plan"


async def test_with_message_content_everything_is_readable(fake, seed, make_bot):
    bot = make_bot()
    got = await _collect(bot)
    async with running(fake, bot):
        await fake.user_says(seed.channel.id, seed.alice.id, "secret plan")
        assert (await asyncio.wait_for(got.get(), 2)).content == "secret plan"


async def test_unapproved_privileged_intent_closes_4014(make_bot):
    async with FakeDiscord(approved_intents=Intent.GUILD_MEMBERS) as fake:
        fake.seed()
        bot = make_bot()  # asks for message_content
        with pytest.raises(discord.ConnectionClosed) as info:
            async with running(fake, bot):
                pass
        assert info.value.code == 4014
        assert fake.sessions == []


async def test_members_intent_chunks_through_op_8(fake, seed, make_bot):
    intents = discord.Intents.default()
    intents.members = True
    bot = make_bot(intents=intents)
    async with running(fake, bot):
        guild = bot.get_guild(seed.guild.id)
        assert guild.chunked
        assert {m.name for m in guild.members} >= {"alice", "bob", "OtherBot", "Ensemble"}
        assert fake.gateway_frames_received(op=8)


async def test_presences_intent_gets_members_in_guild_create(fake, seed, make_bot):
    intents = discord.Intents.default()
    intents.members = True
    intents.presences = True
    bot = make_bot(intents=intents)
    async with running(fake, bot):
        assert bot.get_guild(seed.guild.id).get_member(seed.bob.id) is not None
        assert not fake.gateway_frames_received(op=8)
