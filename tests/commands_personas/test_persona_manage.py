"""/persona list, show, create, edit and delete by an admin, end to end."""

from __future__ import annotations

import pytest

from tests.commands_personas.samples import v2_card
from tests.interactions import MODAL, modal_inputs, press, slash, submit


async def own_card(scene, persona_id):
    stored = await scene.services.store.get_persona(scene.guild.id, persona_id)
    return None if stored is None else stored.card


async def test_list_shows_every_persona_with_its_origin(scene):
    await scene.services.store.save_persona(scene.guild.id, "vell", v2_card())
    marta = v2_card()
    marta["data"]["name"] = "Marta the Second"
    await scene.services.store.save_persona(scene.guild.id, "marta", marta)
    scene.services.personas.invalidate(scene.guild.id)

    answer = await slash(scene, "persona list", scene.admin)

    assert answer.ephemeral
    lines = answer.body["embeds"][0]["description"].splitlines()
    assert "`vell` · **Sister Vell** · this server's own" in lines
    assert "`marta` · **Marta the Second** · this server's version of a shipped persona" in lines
    assert "`vex` · **Vex** · ships with the bot" in lines
    assert answer.body["embeds"][0]["title"] == "Personas (5)"


async def test_show_renders_the_card_with_example_lines_as_the_model_sees_them(scene):
    answer = await slash(scene, "persona show", scene.admin, persona="vex")

    assert answer.ephemeral
    embed = answer.body["embeds"][0]
    assert embed["title"] == "Vex"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Scenario"].startswith("{{char}} travels with the player characters")
    assert fields["Greeting"].startswith("*Vex is sitting on a fence post")
    assert fields["Example lines"].startswith("**Player:** Can you get this door open?\n**Vex:**")
    assert "id: vex · ships with the bot" in embed["footer"]["text"]
    assert len(answer.text) < 6000


async def test_show_uses_the_avatar_url_as_thumbnail(scene):
    card = v2_card()
    card["data"]["extensions"]["ensemble"]["avatar_url"] = "https://img.example/vell.png"
    await scene.services.store.save_persona(scene.guild.id, "vell", card)
    scene.services.personas.invalidate(scene.guild.id)

    answer = await slash(scene, "persona show", scene.admin, persona="vell")

    embed = answer.body["embeds"][0]
    assert embed["thumbnail"]["url"] == "https://img.example/vell.png"
    assert "(+2 alternate)" in answer.text
    assert "call words: vell, sister" in embed["footer"]["text"]


async def test_show_of_an_unknown_persona_says_so(scene):
    answer = await slash(scene, "persona show", scene.admin, persona="nobody")
    assert answer.ephemeral
    assert answer.content == "There is no persona `nobody` here; `/persona list` shows them all."


async def test_autocomplete_offers_matching_personas(scene):
    interaction = await scene.fake.autocomplete(
        "persona show",
        focused="persona",
        value="mar",
        user_id=scene.admin.id,
        channel_id=scene.channel.id,
    )
    await scene.fake.wait_until(lambda: interaction.autocomplete_choices is not None)
    assert interaction.autocomplete_choices == [
        {"name": "Marta Greyhollow (marta)", "value": "marta"}
    ]


async def test_create_opens_a_form_and_saves_the_new_persona(scene):
    form = await slash(
        scene,
        "persona create",
        scene.admin,
        persona_id="lirael",
        avatar_url="https://img.example/lirael.png",
    )
    assert form.callback_type == MODAL
    inputs = modal_inputs(form)
    assert set(inputs) == {"name", "description", "scenario", "first_message", "example_dialogue"}
    assert all(i["max_length"] <= 4000 for i in inputs.values())
    assert inputs["name"]["max_length"] == 64

    answer = await submit(
        scene,
        form,
        scene.admin,
        name="  Lirael  ",
        description="{{char}} is a travelling bard.",
        scenario="A festival night.",
        first_message="*A lute chord rings out.*",
        example_dialogue="<START>\n{{user}}: Play!\n{{char}}: *She grins and plays.*",
    )

    assert answer.ephemeral
    assert answer.content.startswith("Created **Lirael** (`lirael`).")
    card = await own_card(scene, "lirael")
    assert card["spec"] == "chara_card_v2"
    assert card["data"]["name"] == "Lirael"
    assert card["data"]["first_mes"] == "*A lute chord rings out.*"
    persona = await scene.services.personas.get(scene.guild.id, "lirael")
    assert persona is not None
    assert persona.avatar_url == "https://img.example/lirael.png"
    assert persona.scenario == "A festival night."


async def test_create_without_an_id_derives_it_from_the_name(scene):
    form = await slash(scene, "persona create", scene.admin)
    answer = await submit(scene, form, scene.admin, name="Zoë O'Brien", description="A sailor.")
    assert answer.content.startswith("Created **Zoë O'Brien** (`zoe-obrien`).")
    assert await own_card(scene, "zoe-obrien") is not None


BAD_CREATE_OPTIONS = [
    ({"persona_id": "Tavern Keeper"}, "`Tavern Keeper` is not a valid persona id"),
    ({"persona_id": "vex"}, "The id `vex` is already used by **Vex**"),
    ({"avatar_url": "ftp://img.example/a.png"}, "The avatar URL must start with https://"),
]


async def test_create_refuses_bad_options_before_the_form(scene):
    for options, expected in BAD_CREATE_OPTIONS:
        answer = await slash(scene, "persona create", scene.admin, **options)
        assert answer.callback_type == 4, options
        assert answer.ephemeral
        assert expected in answer.content, answer.content


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name": "Vex"}, "**Vex** (`vex`) already has that name"),
        ({"name": "Two\nLines"}, "Name: must be a single line without control characters"),
        ({"name": "Ok", "description": "x" * 4001}, "Description: is 4,001 characters"),
    ],
)
async def test_a_bad_form_is_refused_precisely_and_saves_nothing(scene, values, expected):
    form = await slash(scene, "persona create", scene.admin, persona_id="newcomer")
    answer = await submit(scene, form, scene.admin, **values)
    assert answer.ephemeral
    assert expected in answer.content
    assert await scene.services.store.list_personas(scene.guild.id) == []


async def test_editing_a_shipped_persona_creates_the_servers_version(scene):
    form = await slash(scene, "persona edit", scene.admin, persona="vex")
    inputs = modal_inputs(form)
    shipped = scene.services.personas.shipped["vex"]
    assert inputs["name"]["value"] == "Vex"
    assert inputs["description"]["value"] == shipped.description

    answer = await submit(scene, form, scene.admin, scenario="Vex now guards the harbour gate.")

    assert answer.content == "Saved **Vex** (`vex`) (this server's version)."
    card = await own_card(scene, "vex")
    assert card["data"]["scenario"] == "Vex now guards the harbour gate."
    assert card["data"]["description"] == shipped.description  # untouched inputs stay
    assert card["data"]["tags"] == list(shipped.card["data"]["tags"])  # fields not in the form
    assert card["data"]["extensions"]["ensemble"]["call_words"] == ["vex"]
    persona = await scene.services.personas.get(scene.guild.id, "vex")
    assert persona.scenario == "Vex now guards the harbour gate."
    assert persona.max_tokens == 250
    assert scene.services.personas.shipped["vex"].scenario == shipped.scenario


async def test_edit_keeps_unknown_fields_and_extensions_of_an_imported_card(scene):
    await scene.services.store.save_persona(scene.guild.id, "vell", v2_card())
    scene.services.personas.invalidate(scene.guild.id)
    form = await slash(
        scene, "persona edit", scene.admin, persona="vell", avatar_url="https://img.example/v.png"
    )
    await submit(scene, form, scene.admin, name="Mother Vell")

    card = await own_card(scene, "vell")
    expected = v2_card()
    expected["data"]["name"] = "Mother Vell"
    expected["data"]["extensions"]["ensemble"]["avatar_url"] = "https://img.example/v.png"
    assert card == expected


async def test_a_field_too_long_for_a_form_is_refused_with_what_to_do(scene):
    card = v2_card()
    card["data"]["description"] = "d" * 5000
    await scene.services.store.save_persona(scene.guild.id, "vell", card)
    scene.services.personas.invalidate(scene.guild.id)

    answer = await slash(scene, "persona edit", scene.admin, persona="vell")

    assert answer.callback_type == 4
    assert answer.content.startswith(
        "The description of **Sister Vell** is 5,000 characters, but a Discord form holds at "
        "most 4,000."
    )
    assert "/persona export" in answer.content


async def test_a_shipped_persona_cannot_be_deleted(scene):
    answer = await slash(scene, "persona delete", scene.admin, persona="vex")
    assert answer.ephemeral
    assert answer.content.startswith("**Vex** (`vex`) ships with the bot and cannot be deleted.")
    assert answer.body.get("components") in (None, [])


async def test_deleting_asks_first_and_then_deletes(scene):
    await scene.services.store.save_persona(scene.guild.id, "vell", v2_card())
    scene.services.personas.invalidate(scene.guild.id)
    await scene.enable(cast=("narrator", "vell"))

    question = await slash(scene, "persona delete", scene.admin, persona="vell")
    assert question.ephemeral
    assert "Delete **Sister Vell** (`vell`) from this server?" in question.content
    assert f"It is in the cast of <#{scene.channel.id}>." in question.content
    assert await own_card(scene, "vell") is not None

    done = await press(scene, question.message_id, "Delete", scene.admin)

    assert done.callback_type == 7
    assert done.content == "Deleted **Sister Vell** (`vell`)."
    assert done.body["components"] == []
    assert await own_card(scene, "vell") is None
    assert await scene.services.personas.get(scene.guild.id, "vell") is None


async def test_cancel_keeps_the_persona(scene):
    await scene.services.store.save_persona(scene.guild.id, "vell", v2_card())
    question = await slash(scene, "persona delete", scene.admin, persona="vell")
    done = await press(scene, question.message_id, "Cancel", scene.admin)
    assert done.content == "Cancelled; nothing was changed."
    assert await own_card(scene, "vell") is not None


async def test_deleting_the_servers_version_brings_the_shipped_one_back(scene):
    form = await slash(scene, "persona edit", scene.admin, persona="marta")
    await submit(scene, form, scene.admin, name="Marta the Bold")
    assert (await scene.services.personas.get(scene.guild.id, "marta")).name == "Marta the Bold"

    question = await slash(scene, "persona delete", scene.admin, persona="marta")
    assert "The shipped **Marta Greyhollow** comes back in its place." in question.content
    done = await press(scene, question.message_id, "Delete", scene.admin)

    assert done.content == "Deleted this server's version of `marta`; the shipped one is back."
    persona = await scene.services.personas.get(scene.guild.id, "marta")
    assert persona.name == "Marta Greyhollow"
