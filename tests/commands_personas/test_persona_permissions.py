"""/persona is for Manage Server only: by default permissions, and checked again at run time."""

from __future__ import annotations

import json

import pytest

from tests.commands_personas.samples import v2_card
from tests.harness import MANAGE_GUILD
from tests.interactions import press, slash, submit

REFUSAL = "You need the **Manage Server** permission to manage personas."


def let_everyone_see(scene, name):
    """Emulate an admin opening /name to everyone (Server Settings → Integrations).

    Discord's client hides a command from members without its default permissions (the fake
    does too), but admins can override that per role or member; the bot must still refuse.
    """
    for command in scene.fake.commands():
        if command["name"] == name:
            command["default_member_permissions"] = None


async def test_the_group_is_registered_for_servers_and_manage_server_only(scene):
    persona = next(c for c in scene.fake.commands() if c["name"] == "persona")
    assert int(persona["default_member_permissions"]) == MANAGE_GUILD
    assert persona.get("contexts") == [0] or persona.get("dm_permission") is False
    subcommands = {o["name"]: o for o in persona["options"]}
    assert set(subcommands) == {
        "list",
        "show",
        "create",
        "edit",
        "delete",
        "import",
        "export",
        "rating",
    }
    for sub in subcommands.values():
        assert 0 < len(sub["description"]) <= 100
        for option in sub.get("options") or []:
            assert option["description"], f"{sub['name']}.{option['name']} has no description"


async def test_the_client_hides_persona_commands_from_players(scene):
    with pytest.raises(ValueError, match="lacks the permissions"):
        await scene.fake.slash("persona list", user_id=scene.alice.id, channel_id=scene.channel.id)


async def test_a_player_is_refused_every_persona_command(scene):
    let_everyone_see(scene, "persona")
    card = json.dumps(v2_card()).encode()
    attempts = {
        "persona list": {},
        "persona show": {"persona": "vex"},
        "persona create": {},
        "persona edit": {"persona": "vex"},
        "persona delete": {"persona": "vex"},
        "persona import": {"file": ("vell.json", card)},
        "persona export": {"persona": "vex"},
    }
    for command, options in attempts.items():
        answer = await slash(scene, command, scene.alice, **options)
        assert answer.callback_type == 4, command  # a message, never the form
        assert answer.ephemeral, command
        assert answer.content == REFUSAL, command
    assert await scene.services.store.list_personas(scene.guild.id) == []
    downloads = scene.fake.requests("GET", "/attachments/*")
    assert downloads == []  # the card was never even fetched


async def test_a_moderator_whose_role_loses_manage_server_is_refused(scene):
    role = scene.fake.add_role(scene.guild.id, "Moderator", permissions=MANAGE_GUILD)
    mod = scene.fake.add_user("mod", global_name="Mod", guild_id=scene.guild.id, roles=[role.id])

    allowed = await slash(scene, "persona list", mod)
    assert "Personas (4)" in allowed.text

    let_everyone_see(scene, "persona")
    scene.fake.world.guilds[scene.guild.id].roles[role.id].permissions = 0
    refused = await slash(scene, "persona list", mod)
    assert refused.ephemeral
    assert refused.content == REFUSAL


async def test_losing_the_permission_while_a_form_is_open_saves_nothing(scene):
    role = scene.fake.add_role(scene.guild.id, "Moderator", permissions=MANAGE_GUILD)
    mod = scene.fake.add_user("mod", global_name="Mod", guild_id=scene.guild.id, roles=[role.id])
    form = await slash(scene, "persona create", mod)

    scene.fake.world.guilds[scene.guild.id].roles[role.id].permissions = 0
    answer = await submit(scene, form, mod, name="Sneaky", description="Should not exist.")

    assert answer.ephemeral
    assert answer.content == REFUSAL
    assert await scene.services.store.list_personas(scene.guild.id) == []


async def test_only_the_admin_who_asked_can_confirm_a_delete(scene):
    await scene.services.store.save_persona(scene.guild.id, "vell", v2_card())
    scene.services.personas.invalidate(scene.guild.id)
    role = scene.fake.add_role(scene.guild.id, "Moderator", permissions=MANAGE_GUILD)
    mod = scene.fake.add_user("mod", global_name="Mod", guild_id=scene.guild.id, roles=[role.id])
    question = await slash(scene, "persona delete", mod, persona="vell")
    assert question.message_id is not None

    scene.fake.world.guilds[scene.guild.id].roles[role.id].permissions = 0
    refused = await press(scene, question.message_id, "Delete", mod)

    assert refused.ephemeral
    assert refused.content == REFUSAL
    assert await scene.services.store.get_persona(scene.guild.id, "vell") is not None
