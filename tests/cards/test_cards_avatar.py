"""The picture a persona's webhook wears: text chunks stripped, broken or huge images refused."""

from __future__ import annotations

import base64

import pytest

from bot.cards import (
    AVATAR_KEY,
    CardError,
    CardFormatError,
    CardTooLargeError,
    parse_card,
    stored_avatar_png,
    strip_text_chunks,
    webhook_avatar_png,
)
from bot.cards.limits import MAX_WEBHOOK_AVATAR_BYTES
from tests.cards.helpers import (
    SIGNATURE,
    itxt_chunk,
    raw_chunk,
    raw_image_chunks,
    text_chunk,
    v2_card,
    ztxt_chunk,
)

PHYS = raw_chunk(b"pHYs", b"\0\0\x0b\x13\0\0\x0b\x13\x01")
"""An ancillary chunk that is not text (pixel size): it belongs to the picture and stays."""


def bare_png() -> bytes:
    ihdr, idat, iend = raw_image_chunks()
    return SIGNATURE + ihdr + PHYS + idat + iend


def texty_png() -> bytes:
    """The same picture with every kind of text chunk around it, a card included."""
    ihdr, idat, iend = raw_image_chunks()
    return (
        SIGNATURE
        + ihdr
        + raw_chunk(b"tEXt", b"Software\0Some Card Editor 3.1")
        + PHYS
        + ztxt_chunk("Comment", b"drawn by hand")
        + idat
        + itxt_chunk("Description", "Ünïcode notes".encode(), compressed=False)
        + text_chunk("chara", v2_card())
        + itxt_chunk("XML:com.adobe.xmp", b"<x:xmpmeta/>", compressed=True)
        + iend
    )


def stored_card(avatar: object) -> dict[str, object]:
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": {}, AVATAR_KEY: avatar}


def test_every_text_chunk_goes_and_the_picture_stays_byte_for_byte() -> None:
    assert strip_text_chunks(texty_png(), source="a.png") == bare_png()


def test_a_png_without_text_chunks_comes_back_unchanged() -> None:
    assert strip_text_chunks(bare_png(), source="a.png") == bare_png()


def test_after_an_import_only_the_card_chunk_is_gone_and_the_webhook_gets_no_text() -> None:
    imported = parse_card(texty_png(), filename="sera.png").avatar_png
    assert imported is not None and b"Some Card Editor" in imported  # import keeps comments

    card = stored_card(base64.b64encode(imported).decode())

    assert stored_avatar_png(card, source="sera") == imported
    assert webhook_avatar_png(card, source="sera") == bare_png()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a not a png at all", "is not a PNG file"),
        (b"", "is not a PNG file"),
        (bare_png()[:-5], "PNG is truncated"),
        (SIGNATURE + raw_chunk(b"IHDR", b"\0" * 13, crc=1) + raw_image_chunks()[2], "bad CRC"),
        (SIGNATURE + raw_chunk(b"IDAT", b"") + raw_image_chunks()[2], "first chunk is 'IDAT'"),
        (SIGNATURE + b"\0\0\0\x04I\xffAT", "invalid chunk type"),
    ],
)
def test_a_malformed_png_is_a_clear_format_error(data: bytes, reason: str) -> None:
    with pytest.raises(CardFormatError) as info:
        strip_text_chunks(data, source="avatar of persona 'sera'")

    assert reason in str(info.value)
    assert str(info.value).startswith("avatar of persona 'sera':")


def test_no_cut_of_a_png_crashes_the_stripper() -> None:
    png = texty_png()
    for end in range(len(png)):
        with pytest.raises(CardError):
            strip_text_chunks(png[:end], source="cut.png")


def test_any_damaged_byte_is_caught_as_a_card_error() -> None:
    png = texty_png()
    for at in range(len(png)):
        damaged = png[:at] + bytes([png[at] ^ 0x5A]) + png[at + 1 :]
        with pytest.raises(CardError):
            strip_text_chunks(damaged, source="flip.png")


def test_a_card_without_a_stored_avatar_has_no_webhook_picture() -> None:
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {}}

    assert stored_avatar_png(card, source="x") is None
    assert webhook_avatar_png(card, source="x") is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("***not base64***", "stored avatar is not valid base64"),
        (12345, "stored avatar is not base64 text"),
        (base64.b64encode(b"\xff\xd8\xff a jpeg?").decode(), "is not a PNG file"),
        (base64.b64encode(bare_png()[:30]).decode(), "PNG is truncated"),
    ],
)
def test_a_broken_stored_avatar_is_a_format_error(value: object, reason: str) -> None:
    with pytest.raises(CardFormatError) as info:
        webhook_avatar_png(stored_card(value), source="persona 'sera'")

    assert reason in str(info.value)


def test_the_size_limit_applies_to_the_picture_without_its_text() -> None:
    ihdr, idat, iend = raw_image_chunks()
    filler = raw_chunk(b"tEXt", b"Comment\0" + b"x" * MAX_WEBHOOK_AVATAR_BYTES)
    padded = SIGNATURE + ihdr + idat + filler + iend
    assert len(padded) > MAX_WEBHOOK_AVATAR_BYTES

    picture = webhook_avatar_png(stored_card(base64.b64encode(padded).decode()), source="s")

    assert picture == SIGNATURE + ihdr + idat + iend


def test_a_picture_over_the_limit_is_refused() -> None:
    ihdr, _, iend = raw_image_chunks()
    huge = SIGNATURE + ihdr + raw_chunk(b"IDAT", b"\0" * MAX_WEBHOOK_AVATAR_BYTES) + iend
    card = stored_card(base64.b64encode(huge).decode())

    with pytest.raises(CardTooLargeError) as info:
        webhook_avatar_png(card, source="persona 'sera'")

    assert f"at most {MAX_WEBHOOK_AVATAR_BYTES:,}" in str(info.value)
