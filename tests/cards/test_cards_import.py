"""Importing V1, V2 and V3 cards from JSON and PNG."""

from __future__ import annotations

import json

import pytest

from bot.cards import parse_card, persona_from_card
from bot.cards.png import read_chunks, text_chunk, write_png

from .helpers import (
    card_b64,
    itxt_chunk,
    raw_chunk,
    raw_image_chunks,
    raw_png,
    v1_card,
    v2_card,
    v3_card,
    ztxt_chunk,
)
from .helpers import text_chunk as raw_text_chunk


def test_v1_json_maps_fields_and_keeps_unknown_ones() -> None:
    parsed = parse_card(json.dumps(v1_card()).encode(), filename="tom.json")

    persona = parsed.persona
    assert parsed.source_version == "v1"
    assert parsed.avatar_png is None
    assert persona.id == "old-tom"
    assert persona.name == "Old Tom"
    assert persona.first_message == "*Tom squints at you.* Who's there?"
    assert persona.example_dialogue.startswith("<START>\n{{user}}: Hello?")
    assert persona.talkativeness == 0.5
    assert parsed.card["spec"] == "chara_card_v2"
    assert parsed.card["data"]["tavern_legacy_field"] == {"kept": True}
    assert parsed.card["data"]["extensions"] == {}
    assert persona.card == parsed.card


def test_v2_json_keeps_unknown_fields_extensions_and_greetings() -> None:
    parsed = parse_card(json.dumps(v2_card()).encode(), filename="sera.json")

    persona, data = parsed.persona, parsed.card["data"]
    assert parsed.source_version == "v2"
    assert persona.alternate_greetings == ("*She hums.* Awake at last?", "*Rain.* Come inside.")
    assert persona.post_history_instructions == "Stay gentle."
    assert parsed.card["exporter"] == "SomeTool 1.2"
    assert data["future_field"] == [1, 2, {"x": None}]
    assert data["character_book"] == v2_card()["data"]["character_book"]
    assert data["extensions"] == v2_card()["data"]["extensions"]
    # SillyTavern stores talkativeness as a string in its own extension key.
    assert persona.talkativeness == 0.8


def test_v3_json_keeps_v3_fields_and_reads_our_extension() -> None:
    parsed = parse_card(json.dumps(v3_card()).encode(), filename="ro.json")

    persona, data = parsed.persona, parsed.card["data"]
    assert parsed.source_version == "v3"
    assert parsed.card["spec"] == "chara_card_v2"
    for field in ("group_only_greetings", "nickname", "assets", "source", "creation_date"):
        assert data[field] == v3_card()["data"][field]
    assert persona.talkativeness == 0.25
    assert persona.call_words == ("captain", "ro")
    assert persona.avatar_url == "https://example.invalid/ro.png"
    assert (persona.temperature, persona.top_p, persona.max_tokens) == (0.7, 0.9, 320)
    assert data["extensions"]["risuai"] == {"bias": [["a", 1]]}


def test_v2_card_with_v1_copies_at_top_level_uses_data() -> None:
    card = v2_card()
    card.update(name="Stale Name", description="stale", first_mes="stale")

    parsed = parse_card(json.dumps(card).encode(), filename="sera.json")

    assert parsed.persona.name == "Seraphina"
    assert "name" not in parsed.card
    assert parsed.card["exporter"] == "SomeTool 1.2"


def test_json_with_utf8_bom_and_missing_optional_fields() -> None:
    data = b"\xef\xbb\xbf" + json.dumps({"spec": "chara_card_v2", "data": {"name": "Ada"}}).encode()

    parsed = parse_card(data, filename="ada.json")

    assert parsed.persona.name == "Ada"
    assert parsed.card["data"]["tags"] == []
    assert parsed.card["data"]["alternate_greetings"] == []


def test_hand_built_png_with_chara_chunk() -> None:
    png = raw_png(raw_text_chunk("chara", v2_card()))

    parsed = parse_card(png, filename="sera.png")

    assert parsed.source_version == "v2"
    assert parsed.persona.name == "Seraphina"
    ihdr, idat, iend = raw_image_chunks()
    assert parsed.avatar_png == b"\x89PNG\r\n\x1a\n" + ihdr + idat + iend


def test_png_built_with_our_writer_for_each_version() -> None:
    for card, version in ((v1_card(), "v1"), (v2_card(), "v2"), (v3_card(), "v3")):
        keyword = "ccv3" if version == "v3" else "chara"
        chunks = read_chunks(raw_png(), source="base.png")
        chunks.insert(1, text_chunk(keyword, card_b64(card).decode()))

        parsed = parse_card(write_png(chunks), filename=f"{version}.png")

        assert parsed.source_version == version
        assert parsed.persona.name == card.get("name", card.get("data", {}).get("name"))


def test_ccv3_chunk_wins_over_chara_in_either_order() -> None:
    old = {"name": "Backfilled V2"}
    for chunks in (
        (raw_text_chunk("chara", old), raw_text_chunk("ccv3", v3_card())),
        (raw_text_chunk("ccv3", v3_card()), raw_text_chunk("chara", old)),
    ):
        parsed = parse_card(raw_png(*chunks), filename="ro.png")

        assert parsed.persona.name == "Captain Ro"
        assert parsed.source_version == "v3"
        assert b"ccv3" not in (parsed.avatar_png or b"")
        assert b"chara" not in (parsed.avatar_png or b"")


def test_compressed_ztxt_and_itxt_cards_are_read() -> None:
    payload = card_b64(v2_card())
    for chunk in (
        ztxt_chunk("chara", payload),
        itxt_chunk("chara", payload, compressed=True),
        itxt_chunk("chara", payload, compressed=False),
    ):
        assert parse_card(raw_png(chunk), filename="z.png").persona.name == "Seraphina"


def test_chunk_keyword_is_case_insensitive_and_base64_may_be_wrapped() -> None:
    wrapped = b"\n".join(card_b64(v1_card())[i : i + 76] for i in range(0, 4000, 76))
    png = raw_png(raw_chunk(b"tEXt", b"Chara\0" + wrapped))

    assert parse_card(png, filename="tom.png").persona.name == "Old Tom"


def test_other_text_chunks_and_trailing_bytes_are_ignored() -> None:
    comment = raw_chunk(b"tEXt", b"Comment\0made by hand")
    png = raw_png(comment, raw_text_chunk("chara", v1_card()))

    parsed = parse_card(png + b"trailing garbage", filename="tom.png")

    assert parsed.persona.name == "Old Tom"
    assert parsed.avatar_png is not None
    assert b"made by hand" in parsed.avatar_png
    assert b"trailing garbage" not in parsed.avatar_png


def test_persona_from_card_accepts_raw_cards_and_an_explicit_id() -> None:
    persona = persona_from_card(v3_card(), persona_id="ro")

    assert persona.id == "ro"
    assert persona.card["data"]["nickname"] == "Ro"


@pytest.mark.parametrize(
    ("name", "expected_id"), [("Zoë O'Brien", "zoe-obrien"), ("  Spaced  Out ", "spaced-out")]
)
def test_imported_id_is_a_slug_of_the_name(name: str, expected_id: str) -> None:
    data = json.dumps({"name": name}).encode()

    persona = parse_card(data, filename="x.json").persona

    assert persona.id == expected_id
    assert persona.name == name.strip()


def test_v2_data_wrapper_without_spec_is_read_as_v2() -> None:
    data = json.dumps({"data": {"name": "Ada", "tags": ["x"]}}).encode()

    parsed = parse_card(data, filename="ada.json")

    assert parsed.source_version == "v2"
    assert parsed.card["data"]["tags"] == ["x"]


def test_emoji_names_with_zero_width_joiners_are_allowed() -> None:
    persona = parse_card(json.dumps({"name": "👩‍🚀 Nova"}).encode(), filename="n.json").persona

    assert persona.name == "👩‍🚀 Nova"
    assert persona.id == "nova"
