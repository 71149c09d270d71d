"""/persona import and export: V1/V2/V3 cards as JSON and PNG, hostile files, round trips."""

from __future__ import annotations

import json

import pytest

from bot.cards import MAX_FILE_BYTES, parse_card
from tests.commands_personas.helpers import card_png, idat_of, image_png, png_with_text
from tests.commands_personas.samples import v1_card, v2_card, v3_card
from tests.interactions import slash


async def import_file(scene, filename, data, content_type=None, **options):
    # The fake records JSON-typed responses by parsing them, so a deliberately broken JSON
    # file is served as text/plain (Discord's CDN would say application/json).
    attachment = scene.fake.serve_attachment(filename, data, content_type=content_type)
    return await slash(scene, "persona import", scene.admin, file=attachment, **options)


async def stored_ids(scene):
    return [p.persona_id for p in await scene.services.store.list_personas(scene.guild.id)]


async def sample_roles(scene, persona_id):
    """The sample messages the model would get for this persona in the scene channel."""
    await scene.enable(cast=(persona_id,))
    turn = await scene.services.runtime.preview(scene.channel.id, persona_id)
    assert turn is not None
    return [
        (m["role"], m["content"])
        for m in turn.prompt.messages
        if m["role"].startswith("sample_message")
    ]


async def test_a_v1_json_card_is_imported_and_its_examples_become_sample_roles(scene):
    answer = await import_file(scene, "tom.json", json.dumps(v1_card()).encode())

    assert answer.ephemeral
    assert answer.content == (
        "Imported **Old Tom** (`old-tom`) from a Character Card V1 JSON file (tom.json). "
        "Kept 1 example exchange."
    )
    stored = await scene.services.store.get_persona(scene.guild.id, "old-tom")
    assert stored.card["data"]["lighthouse_hours"] == "dusk till dawn"
    assert await sample_roles(scene, "old-tom") == [
        ("sample_message_user", "Any ships tonight?"),
        ("sample_message_ai", "None that'll make harbour, not in this."),
    ]


async def test_a_v2_json_card_keeps_greetings_extensions_and_unknown_fields(scene):
    answer = await import_file(scene, "vell.json", json.dumps(v2_card()).encode())

    assert answer.content == (
        "Imported **Sister Vell** (`sister-vell`) from a Character Card V2 JSON file "
        "(vell.json). Kept 2 example exchanges; 2 alternate greetings; extensions: depth_prompt, "
        "ensemble, other_tool, talkativeness."
    )
    stored = await scene.services.store.get_persona(scene.guild.id, "sister-vell")
    assert stored.card == v2_card()
    persona = await scene.services.personas.get(scene.guild.id, "sister-vell")
    assert persona.alternate_greetings == tuple(v2_card()["data"]["alternate_greetings"])
    assert persona.talkativeness == pytest.approx(0.3)
    roles = await sample_roles(scene, "sister-vell")
    assert [role for role, _ in roles] == ["sample_message_user", "sample_message_ai"] * 2
    assert roles[0] == ("sample_message_user", "Can you bless my blade?")


async def test_a_v3_json_card_keeps_its_v3_fields(scene):
    answer = await import_file(scene, "ysolde.json", json.dumps(v3_card()).encode())

    assert "from a Character Card V3 JSON file" in answer.content
    data = (await scene.services.store.get_persona(scene.guild.id, "captain-ysolde-marr")).card[
        "data"
    ]
    for field in ("nickname", "group_only_greetings", "assets", "source", "creation_date"):
        assert data[field] == v3_card()["data"][field]
    assert data["extensions"] == {"v3_tool": {"x": 1}}


@pytest.mark.parametrize(
    ("keyword", "card", "version", "persona_id"),
    [
        ("chara", v2_card(), "V2", "sister-vell"),
        ("ccv3", v3_card(), "V3", "captain-ysolde-marr"),
        ("chara", v1_card(), "V1", "old-tom"),
    ],
)
async def test_png_cards_are_imported_with_their_avatar(scene, keyword, card, version, persona_id):
    png = card_png(keyword, card, image_png((10, 120, 30)))

    answer = await import_file(scene, "card.png", png)

    assert f"from a Character Card {version} PNG (card.png)" in answer.content
    assert answer.content.endswith("the avatar image.")
    assert await stored_ids(scene) == [persona_id]
    shown = await slash(scene, "persona show", scene.admin, persona=persona_id)
    assert shown.body["embeds"][0]["thumbnail"]["url"] == "attachment://avatar.png"
    assert [f.filename for f in shown.files] == ["avatar.png"]
    assert idat_of(shown.files[0].data) == idat_of(image_png((10, 120, 30)))


async def test_an_existing_id_needs_replace_and_a_custom_id_avoids_it(scene):
    data = json.dumps(v2_card()).encode()
    await import_file(scene, "vell.json", data)

    again = await import_file(scene, "vell.json", data)
    assert again.content == (
        "The id `sister-vell` is already used by **Sister Vell**. Import again with "
        "`replace: True` to overwrite it, or set another `persona_id`."
    )
    renamed = v2_card()
    renamed["data"]["name"] = "Sister Vell II"
    other = await import_file(scene, "v2.json", json.dumps(renamed).encode(), persona_id="vell2")
    assert "(`vell2`)" in other.content

    changed = v2_card()
    changed["data"]["scenario"] = "The festival is over."
    replaced = await import_file(scene, "vell.json", json.dumps(changed).encode(), replace=True)
    assert replaced.content.startswith("Imported **Sister Vell** (`sister-vell`)")
    persona = await scene.services.personas.get(scene.guild.id, "sister-vell")
    assert persona.scenario == "The festival is over."
    assert sorted(await stored_ids(scene)) == ["sister-vell", "vell2"]


async def test_importing_a_shipped_id_with_replace_overrides_it(scene):
    card = v2_card()
    card["data"]["name"] = "Vex"
    refused = await import_file(scene, "vex.json", json.dumps(card).encode())
    assert "The id `vex` is already used by **Vex**" in refused.content
    await import_file(scene, "vex.json", json.dumps(card).encode(), replace=True)
    persona = await scene.services.personas.get(scene.guild.id, "vex")
    assert persona.description == v2_card()["data"]["description"]


async def test_a_name_clash_with_another_id_is_refused(scene):
    card = v2_card()
    card["data"]["name"] = "vex"
    answer = await import_file(scene, "x.json", json.dumps(card).encode(), persona_id="vex-two")
    assert "**Vex** (`vex`) already has that name" in answer.content
    assert await stored_ids(scene) == []


def _nested(depth):
    value: object = "deep"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE = [
    (
        "bad-base64.png",
        png_with_text("chara", b"!!!not base64***"),
        "bad-base64.png: PNG text chunk 'chara' is not valid base64",
    ),
    (
        "broken.json",
        b'{"spec": "chara_card_v2", "data": {',
        "broken.json: file is not valid JSON",
    ),
    (
        "huge-chunk.png",
        png_with_text("chara", b"A" * (800 * 1024)),
        "huge-chunk.png: PNG text chunk 'chara' is 819,200 bytes; the limit is 716,800",
    ),
    (
        "not-a-png.png",
        b"GIF89a" + bytes(200),
        "not-a-png.png: is a GIF image, not a character card",
    ),
    (
        "no-card.png",
        image_png(),
        "no-card.png: PNG has no character card in it (no 'chara' or 'ccv3' text chunk)",
    ),
    (
        "bad-crc.png",
        card_png("chara", v2_card())[:-4] + b"\0\0\0\0",
        "bad-crc.png: PNG is corrupt: chunk 'IEND'",
    ),
    (
        "long.json",
        json.dumps({"name": "Long", "description": "d" * 13_000}).encode(),
        "long.json: field 'description' is 13,000 characters; the limit is 12,000",
    ),
    (
        "nested.json",
        json.dumps({"name": "Deep", "extensions": {"x": _nested(200)}}).encode(),
        "nested.json: field 'extensions' is nested more than 64 levels deep",
    ),
    (
        "nameless.json",
        json.dumps({"spec": "chara_card_v2", "data": {"description": "?"}}).encode(),
        "nameless.json: field 'name' is missing or empty",
    ),
]


async def test_broken_or_hostile_files_get_a_clear_error_and_change_nothing(scene):
    # One bot for all the files keeps the suite fast; each file is still its own import.
    for filename, data, expected in HOSTILE:
        answer = await import_file(scene, filename, data, content_type="text/plain")

        assert answer.ephemeral, filename
        assert answer.content.startswith(f"Could not import {expected}"), answer.content
        assert answer.content.endswith("Nothing was changed."), answer.content
        assert await stored_ids(scene) == [], filename
        assert len(await scene.services.personas.for_guild(scene.guild.id)) == 4, filename


async def test_an_oversized_attachment_is_refused_before_downloading_it(scene):
    data = b"\x89PNG\r\n\x1a\n" + bytes(MAX_FILE_BYTES)

    answer = await import_file(scene, "giant.png", data)

    assert answer.callback_type == 4  # refused at once, without a defer
    assert answer.content == (
        f"giant.png is {len(data):,} bytes; a card file may be at most {MAX_FILE_BYTES:,} "
        "bytes. Nothing was imported."
    )
    assert scene.fake.requests("GET", "/attachments/*") == []
    assert await stored_ids(scene) == []


async def test_json_export_round_trip_equals_the_input(scene):
    original = v2_card()
    await import_file(scene, "vell.json", json.dumps(original).encode())

    answer = await slash(scene, "persona export", scene.admin, persona="sister-vell", format="json")

    assert answer.ephemeral
    assert [f.filename for f in answer.files] == ["sister-vell.json"]
    assert json.loads(answer.files[0].data) == original


async def test_png_export_round_trip_keeps_the_card_and_the_avatar(scene):
    avatar = image_png((1, 2, 3))
    await import_file(scene, "vell.png", card_png("chara", v2_card(), avatar))

    answer = await slash(scene, "persona export", scene.admin, persona="sister-vell", format="png")

    assert [f.filename for f in answer.files] == ["sister-vell.png"]
    exported = parse_card(answer.files[0].data, filename="sister-vell.png")
    assert exported.source_version == "v2"
    assert exported.card == v2_card()
    assert idat_of(exported.avatar_png) == idat_of(avatar)


async def test_a_v3_card_exports_as_v2_keeping_every_v3_field(scene):
    await import_file(scene, "y.png", card_png("ccv3", v3_card()))

    answer = await slash(scene, "persona export", scene.admin, persona="captain-ysolde-marr")

    exported = parse_card(answer.files[0].data, filename="y.png")
    assert exported.card["spec"] == "chara_card_v2"
    assert exported.card["data"] == {**v3_card()["data"]}
    assert "ensemble_avatar_png" not in answer.files[0].data.decode("latin-1")


async def test_a_shipped_persona_exports_with_a_placeholder_avatar(scene):
    answer = await slash(scene, "persona export", scene.admin, persona="vex")

    exported = parse_card(answer.files[0].data, filename="vex.png")
    assert exported.persona.name == "Vex"
    assert exported.persona.call_words == ("vex",)
    assert exported.avatar_png is not None
