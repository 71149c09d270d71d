"""Ready/cache, messages in and out, content intent, errors."""

from __future__ import annotations

import asyncio

import discord

from tests.fakes.discord import running


async def test_ready_caches_guilds_channels_and_threads(fake, seed, make_bot):
    thread = fake.add_thread(seed.channel.id, "side-scene", owner_id=seed.alice.id)
    bot = make_bot()
    async with running(fake, bot):
        assert bot.user is not None and bot.user.id == fake.bot_user.id
        guild = bot.get_guild(seed.guild.id)
        assert guild is not None and guild.name == "Tavern"
        channel = guild.get_channel(seed.channel.id)
        assert isinstance(channel, discord.TextChannel) and channel.name == "roleplay"
        assert guild.get_thread(thread.id) is not None
        assert guild.default_role.id == guild.id
        assert guild.me.guild_permissions.manage_webhooks
        assert bot.application_id == fake.application_id


async def test_on_message_receives_user_says(fake, seed, make_bot):
    bot = make_bot()
    got: asyncio.Queue[discord.Message] = asyncio.Queue()

    async def on_message(message: discord.Message) -> None:
        got.put_nowait(message)

    bot.add_listener(on_message)
    async with running(fake, bot):
        sent = await fake.user_says(seed.channel.id, seed.alice.id, "hello tavern")
        message = await asyncio.wait_for(got.get(), 2)
        assert message.id == int(sent["id"])
        assert message.content == "hello tavern"
        assert message.author.id == seed.alice.id
        assert isinstance(message.author, discord.Member)
        assert message.channel.id == seed.channel.id


async def test_bot_dms_a_user(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        user = await bot.fetch_user(seed.alice.id)
        sent = await user.send("Your turn, Alice.")
        dm = fake.dm_channel(seed.alice.id)
        assert sent.channel.id == dm.id
        assert [m.content for m in fake.messages_in(dm.id)] == ["Your turn, Alice."]
        event = fake.dispatched("MESSAGE_CREATE")[-1]
        assert "guild_id" not in event.data


async def test_guild_member_and_pins(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        guild = bot.get_guild(seed.guild.id)
        member = await guild.fetch_member(seed.bob.id)
        assert member.name == "bob"
        fetched = await bot.fetch_guild(seed.guild.id)
        assert fetched.name == "Tavern"
        roles = await guild.fetch_roles()
        assert guild.id in {r.id for r in roles}
        message = await bot.get_channel(seed.channel.id).send("Quest log")
        await message.pin()
        pins = [m.id async for m in bot.get_channel(seed.channel.id).pins()]
        assert pins == [message.id]
        assert fake.message(message.id).payload["pinned"] is True


async def test_autocomplete_choices_are_recorded(fake, seed, make_bot):
    from discord import app_commands

    bot = make_bot()

    @bot.tree.command(name="persona", description="Pick a persona")
    async def persona(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @persona.autocomplete("name")
    async def names(interaction: discord.Interaction, current: str):
        return [
            app_commands.Choice(name=n, value=n)
            for n in ("Mira", "Kael", "Mort")
            if n.startswith(current)
        ]

    async with running(fake, bot):
        await bot.tree.sync()
        typed = await fake.autocomplete(
            "persona", focused="name", value="M", user_id=seed.alice.id, channel_id=seed.channel.id
        )
        await fake.wait_until(lambda: typed.acknowledged)
        assert [c["name"] for c in typed.autocomplete_choices] == ["Mira", "Mort"]


async def test_guilds_and_channels_built_after_ready_can_be_announced(fake, seed, make_bot):
    bot = make_bot()
    joined: list[int] = []

    async def on_guild_join(guild: discord.Guild) -> None:
        joined.append(guild.id)

    bot.add_listener(on_guild_join)
    async with running(fake, bot):
        late = fake.add_guild("Late Guild")
        await fake.announce_guild(late.id)
        await fake.wait_until(lambda: joined == [late.id])
        channel = fake.add_text_channel(seed.guild.id, "ooc")
        await fake.announce_channel(channel.id)
        await fake.wait_until(lambda: bot.get_channel(channel.id) is not None)
        assert bot.get_channel(channel.id).name == "ooc"


async def test_roles_built_after_ready_can_be_announced(fake, seed, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        role = fake.add_role(seed.guild.id, "Game Master", permissions=1 << 5)
        await fake.announce_role(role.id)
        await fake.wait_until(lambda: bot.get_guild(seed.guild.id).get_role(role.id))
        assert bot.get_guild(seed.guild.id).get_role(role.id).permissions.manage_guild
