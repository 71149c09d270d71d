"""Slash commands, components and modals through real discord.py app_commands and views."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord import running


def _scene_group(log: list[str], gate: asyncio.Event | None = None) -> app_commands.Group:
    scene = app_commands.Group(name="scene", description="Manage the scene")

    @scene.command(name="start", description="Start a scene")
    @app_commands.describe(setting="Where it happens", card="A character card")
    async def start(
        interaction: discord.Interaction,
        setting: str,
        card: discord.Attachment | None = None,
    ) -> None:
        if gate is not None:
            await gate.wait()
        await interaction.response.defer(thinking=True)
        card_text = (await card.read()).decode() if card else "-"
        log.append(f"start:{setting}:{card_text}")
        await interaction.edit_original_response(content=f"Scene in {setting}…")
        await interaction.edit_original_response(content=f"Scene in {setting}. Begin!")
        await interaction.followup.send("(narrator joins)")

    return scene


async def test_slash_command_sync_defer_edit_followup(fake, seed, make_bot):
    bot = make_bot()
    log: list[str] = []
    bot.tree.add_command(_scene_group(log))
    async with running(fake, bot):
        synced = await bot.tree.sync()
        assert [c.name for c in synced] == ["scene"]
        put = fake.requests("PUT", f"/applications/{fake.application_id}/commands")[0]
        assert put.json[0]["options"][0]["name"] == "start"

        interaction = await fake.slash(
            "scene start",
            user_id=seed.alice.id,
            channel_id=seed.channel.id,
            options={"setting": "the docks", "card": ("card.txt", b"Mira")},
        )
        await fake.wait_until(lambda: len(interaction.followup_ids) == 1)
        assert log == ["start:the docks:Mira"]
        kinds = [(c.kind, c.status) for c in fake.interaction_responses(interaction.id)]
        assert kinds == [
            ("callback", 200),
            ("edit_original", 200),
            ("edit_original", 200),
            ("followup", 200),
        ]
        assert interaction.response_type == 5
        original = fake.message(interaction.original_message_id)
        assert original.content == "Scene in the docks. Begin!"
        assert original.flags & 128 == 0  # the LOADING flag is gone after the edit
        assert original.payload["type"] == 20
        assert original.payload["interaction_metadata"]["user"]["id"] == str(seed.alice.id)
        followup = fake.message(interaction.followup_ids[0])
        assert followup.content == "(narrator joins)"
        edit = fake.requests("PATCH", "/webhooks/*/messages/@original")[0]
        assert edit.json["allowed_mentions"] == {"parse": []}


async def test_ack_after_three_seconds_is_10062_and_double_ack_is_40060(fake, seed, make_bot):
    bot = make_bot()
    errors: list[int] = []
    gate = asyncio.Event()

    @bot.tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        await gate.wait()
        try:
            await interaction.response.send_message("pong")
        except discord.HTTPException as exc:
            errors.append(exc.code)

    async with running(fake, bot):
        await bot.tree.sync()
        late = await fake.slash("ping", user_id=seed.bob.id, channel_id=seed.channel.id)
        fake.advance_clock(3.1)
        gate.set()
        await fake.wait_until(lambda: errors)
        assert errors == [10062]
        assert not late.acknowledged

        fresh = await fake.slash("ping", user_id=seed.bob.id, channel_id=seed.channel.id)
        await fake.wait_until(lambda: fresh.acknowledged)
        assert fresh.response_type == 4
        # A second initial response (e.g. from a second bot process) is refused.
        url = f"{fake.api_base}/interactions/{fresh.id}/{fresh.token}/callback?with_response=1"
        body = {"type": 4, "data": {"content": "again"}}
        async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 40060
        assert [c.status for c in fake.interaction_responses(fresh.id)] == [200, 400]


async def test_expired_token_is_401_50027(fake, seed, make_bot):
    bot = make_bot()
    outcome: list[int] = []
    later = asyncio.Event()

    @bot.tree.command(name="long", description="A long turn")
    async def long(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await later.wait()
        try:
            await interaction.edit_original_response(content="done at last")
        except discord.HTTPException as exc:
            outcome.append(exc.code)

    async with running(fake, bot):
        await bot.tree.sync()
        interaction = await fake.slash("long", user_id=seed.bob.id, channel_id=seed.channel.id)
        await fake.wait_until(lambda: interaction.acknowledged)
        fake.advance_clock(15 * 60 + 1)
        later.set()
        await fake.wait_until(lambda: outcome)
        assert outcome == [50027]


async def test_button_click_updates_the_message(fake, seed, make_bot):
    bot = make_bot()
    clicks: list[int] = []

    class Vote(discord.ui.View):
        @discord.ui.button(label="Continue", custom_id="vote:continue")
        async def go(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            clicks.append(interaction.user.id)
            await interaction.response.edit_message(content="Continuing…", view=None)

    async with running(fake, bot):
        message = await bot.get_channel(seed.channel.id).send("Vote?", view=Vote())
        stored = fake.message(message.id)
        assert stored.components[0]["components"][0]["custom_id"] == "vote:continue"
        interaction = await fake.click(message.id, "vote:continue", seed.alice.id)
        await fake.wait_until(lambda: interaction.acknowledged)
        assert clicks == [seed.alice.id]
        assert interaction.response_type == 7
        assert stored.content == "Continuing…" and stored.components == []
        with pytest.raises(ValueError, match="no component"):
            await fake.click(message.id, "vote:continue", seed.bob.id)


async def test_select_and_ephemeral_reply(fake, seed, make_bot):
    bot = make_bot()

    class Pick(discord.ui.View):
        @discord.ui.select(
            custom_id="pick",
            options=[discord.SelectOption(label="a"), discord.SelectOption(label="b")],
        )
        async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
            await interaction.response.send_message(f"you chose {select.values[0]}", ephemeral=True)

    async with running(fake, bot):
        message = await bot.get_channel(seed.channel.id).send("Pick", view=Pick())
        interaction = await fake.click(message.id, "pick", seed.bob.id, values=["b"])
        await fake.wait_until(lambda: interaction.acknowledged)
        reply = fake.message(interaction.original_message_id)
        assert reply.content == "you chose b" and reply.flags & 64
        assert not [e for e in fake.dispatched("MESSAGE_CREATE") if e.data["id"] == str(reply.id)]


async def test_modal_round_trip(fake, seed, make_bot):
    bot = make_bot()
    submitted: list[str] = []

    class Sheet(discord.ui.Modal, title="Character sheet"):
        name = discord.ui.TextInput(label="Name", custom_id="sheet:name")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            submitted.append(self.name.value)
            await interaction.response.send_message(f"Welcome, {self.name.value}")

    @bot.tree.command(
        name="sheet", description="Edit your sheet", guild=discord.Object(seed.guild.id)
    )
    async def sheet(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Sheet(custom_id="sheet"))

    async with running(fake, bot):
        await bot.tree.sync(guild=discord.Object(seed.guild.id))
        assert [c["name"] for c in fake.commands(seed.guild.id)] == ["sheet"]
        opened = await fake.slash("sheet", user_id=seed.alice.id, channel_id=seed.channel.id)
        await fake.wait_until(lambda: opened.modal is not None)
        assert opened.modal["custom_id"] == "sheet"
        submit = await fake.submit_modal(
            "sheet", {"sheet:name": "Mira"}, seed.alice.id, seed.channel.id
        )
        await fake.wait_until(lambda: submit.acknowledged)
        assert submitted == ["Mira"]
        assert fake.message(submit.original_message_id).content == "Welcome, Mira"


async def test_slash_refuses_unregistered_commands(fake, seed):
    with pytest.raises(ValueError, match="not registered"):
        await fake.slash("nothing", user_id=seed.alice.id, channel_id=seed.channel.id)


async def test_invalid_command_definitions_are_rejected(fake, make_bot):
    bot = make_bot()
    async with running(fake, bot):
        with pytest.raises(discord.HTTPException) as info:
            await bot.http.bulk_upsert_global_commands(
                fake.application_id, [{"name": "Bad Name", "description": "x", "type": 1}]
            )
        assert info.value.code == 50035


async def test_deferred_component_update_edits_the_source_message(fake, seed, make_bot):
    bot = make_bot()

    class Next(discord.ui.View):
        @discord.ui.button(label="Next", custom_id="next")
        async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            await interaction.response.defer()
            await interaction.edit_original_response(content="Page 2")

    async with running(fake, bot):
        message = await bot.get_channel(seed.channel.id).send("Page 1", view=Next())
        interaction = await fake.click(message.id, "next", seed.bob.id)
        await fake.wait_until(lambda: fake.message(message.id).content == "Page 2")
        assert interaction.response_type == 6
        assert [c.kind for c in fake.interaction_responses(interaction.id)] == [
            "callback",
            "edit_original",
        ]


async def test_first_followup_after_defer_fills_the_placeholder(fake, seed, make_bot):
    bot = make_bot()

    @bot.tree.command(name="narrate", description="Narrate")
    async def narrate(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await interaction.followup.send("first")
        await interaction.followup.send("second")

    async with running(fake, bot):
        await bot.tree.sync()
        interaction = await fake.slash("narrate", user_id=seed.bob.id, channel_id=seed.channel.id)
        await fake.wait_until(lambda: len(interaction.followup_ids) == 1)
        placeholder = fake.message(interaction.original_message_id)
        assert placeholder.content == "first" and placeholder.flags == 64
        assert fake.message(interaction.followup_ids[0]).content == "second"
        # Ephemeral messages are never dispatched; the public second followup is.
        assert [e.data["content"] for e in fake.dispatched("MESSAGE_CREATE")] == ["second"]


async def test_admin_only_commands_are_not_offered_to_members(fake, seed, make_bot):
    bot = make_bot()

    @bot.tree.command(name="reset", description="Reset the scene")
    @discord.app_commands.default_permissions(manage_guild=True)
    async def reset(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("reset")

    async with running(fake, bot):
        await bot.tree.sync()
        with pytest.raises(ValueError, match="lacks the permissions"):
            await fake.slash("reset", user_id=seed.bob.id, channel_id=seed.channel.id)
        owner = seed.guild.owner_id
        done = await fake.slash("reset", user_id=owner, channel_id=seed.channel.id)
        await fake.wait_until(lambda: done.acknowledged)


async def test_context_menu_commands(fake, seed, make_bot):
    bot = make_bot()
    seen: list[str] = []

    @bot.tree.context_menu(name="Rewind to here")
    async def rewind(interaction: discord.Interaction, message: discord.Message) -> None:
        seen.append(f"rewind:{message.content}")
        await interaction.response.send_message("rewound", ephemeral=True)

    @bot.tree.context_menu(name="Show sheet")
    async def show(interaction: discord.Interaction, member: discord.Member) -> None:
        seen.append(f"sheet:{member.name}")
        await interaction.response.send_message(member.name, ephemeral=True)

    async with running(fake, bot):
        await bot.tree.sync()
        said = await fake.user_says(seed.channel.id, seed.alice.id, "the storm breaks")
        first = await fake.message_command(
            "Rewind to here", message_id=int(said["id"]), user_id=seed.bob.id
        )
        second = await fake.user_command(
            "Show sheet", target_id=seed.alice.id, user_id=seed.bob.id, channel_id=seed.channel.id
        )
        await fake.wait_until(lambda: first.acknowledged and second.acknowledged)
        assert seen == ["rewind:the storm breaks", "sheet:alice"]
