"""Broken and hostile card files: each is refused with a specific, precise error."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.cards import CardError, CardFieldError, CardFormatError, CardTooLargeError, parse_card
from bot.cards.limits import FIELD_CHAR_LIMITS, MAX_CARD_CHUNK_BYTES, MAX_NESTING_DEPTH

from .helpers import (
    SIGNATURE,
    card_b64,
    itxt_chunk,
    raw_chunk,
    raw_image_chunks,
    raw_png,
    text_chunk,
    v2_card,
    ztxt_chunk,
)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _v2(**data: object) -> bytes:
    return _json({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "A", **data}})


def _png_text(keyword: bytes, text: bytes) -> bytes:
    return raw_png(raw_chunk(b"tEXt", keyword + b"\0" + text))


def _truncated_png() -> bytes:
    return raw_png(text_chunk("chara", v2_card()))[:-40]


def _bad_crc_png() -> bytes:
    ihdr, idat, iend = raw_image_chunks()
    body = b"chara\0" + card_b64(v2_card())
    return SIGNATURE + ihdr + idat + raw_chunk(b"tEXt", body, crc=0xDEADBEEF) + iend


def _lying_length_png() -> bytes:
    ihdr, _, _ = raw_image_chunks()
    return SIGNATURE + ihdr + struct.pack(">I", 0xFFFFFFF0) + b"tEXt" + b"chara\0AAAA"


def _not_ihdr_first_png() -> bytes:
    ihdr, idat, iend = raw_image_chunks()
    return SIGNATURE + text_chunk("chara", v2_card()) + ihdr + idat + iend


def _deep_json() -> bytes:
    depth = MAX_NESTING_DEPTH + 5
    return b'{"name": "A", "x": ' + b"[" * depth + b"]" * depth + b"}"


def _zip() -> bytes:
    return b"PK\x03\x04" + bytes(40)


@dataclass(frozen=True)
class Case:
    data: Callable[[], bytes]
    filename: str
    error: type[CardError]
    fragment: str
    field: str | None = None


CASES: dict[str, Case] = {
    "empty file": Case(lambda: b"", "a.json", CardFormatError, "file is empty"),
    "bad JSON": Case(
        lambda: b'{"name": "A",}', "a.json", CardFormatError, "file is not valid JSON: Expecting"
    ),
    "JSON not an object": Case(
        lambda: b'["name"]', "a.json", CardFormatError, "file must be a JSON object, not a list"
    ),
    "invalid UTF-8": Case(lambda: b'{"name": "\xff"}', "a.json", CardFormatError, "UTF-8"),
    "NaN in JSON": Case(lambda: b'{"name": "A", "x": NaN}', "a.json", CardFormatError, "NaN"),
    "deep nesting": Case(_deep_json, "a.json", CardFieldError, "nested more than", "x"),
    "recursion-deep nesting": Case(
        lambda: b'{"a":' * 50_000, "a.json", CardFormatError, "nested too deeply"
    ),
    "unpaired surrogate": Case(
        lambda: b'{"name": "A", "description": "\\ud800"}',
        "a.json",
        CardFieldError,
        "unpaired surrogate",
        "description",
    ),
    "NUL in a key": Case(
        lambda: b'{"name": "A", "extensions": {"a\\u0000": 1}}',
        "a.json",
        CardFieldError,
        "invalid key",
        "extensions",
    ),
    "too many PNG chunks": Case(
        lambda: raw_png(*[raw_chunk(b"zzZz", b"")] * 10_001),
        "a.png",
        CardTooLargeError,
        "more than 10,000 chunks",
    ),
    "missing name": Case(lambda: _v2(name=None), "a.json", CardFieldError, "missing", "name"),
    "blank name": Case(lambda: _v2(name="   "), "a.json", CardFieldError, "missing", "name"),
    "multi-line name": Case(
        lambda: _v2(name="A\nB"), "a.json", CardFieldError, "single line", "name"
    ),
    "name is a list": Case(
        lambda: _v2(name=["A"]), "a.json", CardFieldError, "must be a string, not a list", "name"
    ),
    "description is a number": Case(
        lambda: _v2(description=3), "a.json", CardFieldError, "not a number", "description"
    ),
    "tags is a string": Case(
        lambda: _v2(tags="fantasy"), "a.json", CardFieldError, "list of strings", "tags"
    ),
    "greeting is not a string": Case(
        lambda: _v2(alternate_greetings=["hi", 7]),
        "a.json",
        CardFieldError,
        "must be a string",
        "alternate_greetings[1]",
    ),
    "extensions is a list": Case(
        lambda: _v2(extensions=[]), "a.json", CardFieldError, "table/object", "extensions"
    ),
    "data is a string": Case(
        lambda: _json({"spec": "chara_card_v2", "data": "x"}), "a.json", CardFieldError, "", "data"
    ),
    "unsupported spec": Case(
        lambda: _json({"spec": "chara_card_v9", "data": {}}), "a.json", CardFormatError, "v9"
    ),
    "huge field": Case(
        lambda: _v2(description="x" * 12_345),
        "a.json",
        CardTooLargeError,
        f"is 12,345 characters; the limit is {FIELD_CHAR_LIMITS['description']:,}",
        "description",
    ),
    "talkativeness out of range": Case(
        lambda: _v2(extensions={"ensemble": {"talkativeness": 1.5}}),
        "a.json",
        CardFieldError,
        "range [0.0, 1.0]",
        "extensions.ensemble.talkativeness",
    ),
    "unknown ensemble key": Case(
        lambda: _v2(extensions={"ensemble": {"talkativness": 0.5}}),
        "a.json",
        CardFieldError,
        "did you mean 'talkativeness'",
        "extensions.ensemble.talkativness",
    ),
    "max_tokens is a float": Case(
        lambda: _v2(extensions={"ensemble": {"max_tokens": 1.5}}),
        "a.json",
        CardFieldError,
        "whole number",
        "extensions.ensemble.max_tokens",
    ),
    "huge file": Case(
        lambda: b"{" + b" " * (2 * 1024 * 1024 + 1), "a.json", CardTooLargeError, "limit"
    ),
    "JSON file over its own limit": Case(
        lambda: _v2(x="y" * (600 * 1024)), "a.json", CardTooLargeError, "JSON card file"
    ),
    "not a PNG or JSON": Case(
        lambda: b"hello, world", "a.png", CardFormatError, "neither a PNG nor a JSON"
    ),
    "JPEG": Case(lambda: b"\xff\xd8\xff\xe0" + bytes(20), "a.jpg", CardFormatError, "JPEG"),
    "zip archive": Case(_zip, "card.zip", CardFormatError, "CHARX cards are not supported"),
    "charx by name": Case(lambda: b"{}", "card.charx", CardFormatError, "CHARX"),
    "truncated PNG": Case(_truncated_png, "a.png", CardFormatError, "truncated"),
    "bad CRC": Case(_bad_crc_png, "a.png", CardFormatError, "'tEXt' at byte 58 has a bad CRC"),
    "chunk length lies": Case(_lying_length_png, "a.png", CardFormatError, "has length"),
    "IHDR not first": Case(_not_ihdr_first_png, "a.png", CardFormatError, "not IHDR"),
    "PNG without card": Case(raw_png, "a.png", CardFormatError, "no character card"),
    "bad base64": Case(
        lambda: _png_text(b"chara", b"!!not*base64!!"), "a.png", CardFormatError, "base64"
    ),
    "bad JSON in chunk": Case(
        lambda: _png_text(b"chara", base64.b64encode(b"{nope")),
        "a.png",
        CardFormatError,
        "the card in PNG text chunk 'chara' is not valid JSON",
    ),
    "huge chunk": Case(
        lambda: _png_text(b"chara", b"A" * (MAX_CARD_CHUNK_BYTES + 1)),
        "a.png",
        CardTooLargeError,
        f"PNG text chunk 'chara' is {MAX_CARD_CHUNK_BYTES + 1:,} bytes",
    ),
    "zTXt decompression bomb": Case(
        lambda: raw_png(ztxt_chunk("chara", b"A" * (8 * 1024 * 1024))),
        "a.png",
        CardTooLargeError,
        "inflates to more than",
    ),
    "iTXt decompression bomb": Case(
        lambda: raw_png(itxt_chunk("ccv3", b"A" * (8 * 1024 * 1024), compressed=True)),
        "a.png",
        CardTooLargeError,
        "inflates to more than",
    ),
    "corrupt zTXt": Case(
        lambda: raw_png(raw_chunk(b"zTXt", b"chara\0\0not zlib")),
        "a.png",
        CardFormatError,
        "corrupt compressed data",
    ),
    "truncated zTXt stream": Case(
        lambda: raw_png(raw_chunk(b"zTXt", b"chara\0\0" + zlib.compress(b"A" * 5000)[:20])),
        "a.png",
        CardFormatError,
        "truncated compressed data",
    ),
}


@pytest.mark.parametrize("case_name", list(CASES))
def test_bad_card_is_refused_precisely(case_name: str) -> None:
    case = CASES[case_name]

    with pytest.raises(case.error) as caught:
        parse_card(case.data(), filename=case.filename)

    error = caught.value
    assert error.source == case.filename
    assert error.field == case.field
    assert str(error).startswith(f"{case.filename}: ")
    assert case.fragment in str(error)


def test_error_message_names_file_and_field() -> None:
    with pytest.raises(CardTooLargeError) as caught:
        parse_card(_v2(description="x" * 12_345), filename="personas/bard.json")

    assert str(caught.value) == (
        "personas/bard.json: field 'description' is 12,345 characters; the limit is 12,000"
    )


def test_errors_are_value_errors_and_do_not_echo_huge_content() -> None:
    with pytest.raises(ValueError, match="limit") as caught:
        parse_card(_v2(description="secret " * 3000), filename="a.json")

    assert "secret" not in str(caught.value)
