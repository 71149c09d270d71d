"""Export (V2 JSON and PNG) and re-import gives back an equal card."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bot.cards import (
    CardFormatError,
    CardTooLargeError,
    card_from_persona,
    export_json,
    export_png,
    parse_card,
    placeholder_png,
)
from bot.cards.png import read_chunks
from bot.models import Persona

from .helpers import raw_chunk, raw_png, text_chunk, v1_card, v2_card, v3_card

CARDS = {"v1": v1_card, "v2": v2_card, "v3": v3_card}


@pytest.mark.parametrize("version", list(CARDS))
def test_export_json_round_trip_equal_to_the_input(version: str) -> None:
    original = parse_card(json.dumps(CARDS[version]()).encode(), filename="in.json")

    exported = export_json(original.persona)
    again = parse_card(exported, filename="out.json")

    assert json.loads(exported)["spec"] == "chara_card_v2"
    assert again.source_version == "v2"
    assert again.card == original.card
    assert again.persona == original.persona
    assert again.persona.card == original.persona.card


@pytest.mark.parametrize("version", list(CARDS))
def test_export_png_round_trip_keeps_card_and_avatar(version: str) -> None:
    keyword = "ccv3" if version == "v3" else "chara"
    original = parse_card(raw_png(text_chunk(keyword, CARDS[version]())), filename="in.png")

    exported = export_png(original.persona, original.avatar_png)
    again = parse_card(exported, filename="out.png")

    assert again.card == original.card
    assert again.persona == original.persona
    assert again.avatar_png == original.avatar_png
    assert exported.count(b"tEXtchara") == 1
    assert b"ccv3" not in exported


def test_unknown_fields_and_extensions_survive_export() -> None:
    persona = parse_card(json.dumps(v2_card()).encode(), filename="in.json").persona

    exported: dict[str, Any] = json.loads(export_json(persona))

    assert exported["exporter"] == "SomeTool 1.2"
    assert exported["data"]["future_field"] == [1, 2, {"x": None}]
    assert exported["data"]["character_book"] == v2_card()["data"]["character_book"]
    assert exported["data"]["extensions"] == v2_card()["data"]["extensions"]


def test_changed_persona_values_are_written_to_the_card() -> None:
    persona = parse_card(json.dumps(v2_card()).encode(), filename="in.json").persona
    changed = dataclasses.replace(
        persona,
        description="New description.",
        talkativeness=0.1,
        call_words=("sera",),
        max_tokens=200,
    )

    again = parse_card(export_json(changed), filename="out.json").persona

    assert again == changed
    card = card_from_persona(changed)
    assert card["data"]["extensions"]["ensemble"] == {
        "talkativeness": 0.1,
        "call_words": ["sera"],
        "max_tokens": 200,
    }
    assert card["data"]["extensions"]["talkativeness"] == "0.8"


def test_clearing_a_setting_removes_it_from_the_card() -> None:
    persona = parse_card(json.dumps(v3_card()).encode(), filename="in.json").persona
    cleared = dataclasses.replace(persona, temperature=None, call_words=())

    ensemble = card_from_persona(cleared)["data"]["extensions"]["ensemble"]

    assert "temperature" not in ensemble
    assert "call_words" not in ensemble
    assert parse_card(export_json(cleared), filename="x.json").persona == cleared


def test_persona_built_in_code_exports_a_complete_v2_card() -> None:
    persona = Persona(id="bard", name="Lirael", first_message="Hello!", talkativeness=0.9)

    card = json.loads(export_json(persona))

    assert card["spec"] == "chara_card_v2"
    assert card["spec_version"] == "2.0"
    assert card["data"]["first_mes"] == "Hello!"
    assert card["data"]["alternate_greetings"] == []
    assert card["data"]["extensions"] == {"ensemble": {"talkativeness": 0.9}}
    again = parse_card(json.dumps(card).encode(), filename="x.json", persona_id="bard")
    assert again.persona == persona


def test_card_from_persona_returns_a_fresh_copy() -> None:
    persona = parse_card(json.dumps(v2_card()).encode(), filename="in.json").persona

    card_from_persona(persona)["data"]["extensions"]["fav"] = True

    assert persona.card["data"]["extensions"]["fav"] is False


def test_export_png_without_avatar_uses_a_valid_placeholder() -> None:
    persona = Persona(id="bard", name="Lirael")

    exported = export_png(persona)
    parsed = parse_card(exported, filename="bard.png")

    assert parsed.persona.name == "Lirael"
    assert parsed.avatar_png == placeholder_png("Lirael")
    assert [c.type for c in read_chunks(placeholder_png("x"), source="p")] == [
        b"IHDR",
        b"IDAT",
        b"IEND",
    ]
    assert placeholder_png("Lirael") != placeholder_png("Vex")


def test_export_png_rejects_an_avatar_that_is_not_a_png() -> None:
    with pytest.raises(CardFormatError, match="not a PNG"):
        export_png(Persona(id="bard", name="Lirael"), b"\xff\xd8\xff\xe0 jpeg")


def test_export_refuses_to_write_what_import_would_refuse() -> None:
    padding = raw_chunk(b"zzZz", b"\0" * (2 * 1024 * 1024))  # an ancillary chunk readers skip
    huge_avatar = raw_png(padding)
    persona = Persona(id="bard", name="Lirael")

    with pytest.raises(CardTooLargeError, match="smaller avatar"):
        export_png(persona, huge_avatar)


def test_export_validates_the_persona() -> None:
    with pytest.raises(CardTooLargeError, match="'description'"):
        export_json(Persona(id="bard", name="Lirael", description="x" * 20_000))
