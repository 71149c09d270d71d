"""Import a character card from bytes: PNG, JSON (V1/V2/V3) or hand-written TOML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.cards.containers import (
    card_from_png,
    card_from_toml,
    decode_json,
    describe_unknown,
    sniff,
)
from bot.cards.convert import persona_from_card
from bot.cards.errors import CardFormatError, CardTooLargeError
from bot.cards.limits import MAX_JSON_BYTES, MAX_PNG_BYTES, MAX_TOML_BYTES
from bot.cards.normalize import CardVersion, normalize_card
from bot.models import Persona

MAX_FILE_BYTES = max(MAX_PNG_BYTES, MAX_JSON_BYTES, MAX_TOML_BYTES)
"""No card file of any kind may be larger than this."""


@dataclass(frozen=True, slots=True, eq=False)
class ParsedCard:
    """An imported card: the persona, its normalised V2 card, and the avatar if it had one."""

    persona: Persona
    card: dict[str, Any]
    """Normalised V2 card (`{"spec": "chara_card_v2", "spec_version": "2.0", "data": ...}`)."""
    avatar_png: bytes | None
    """The PNG image without its card text chunks; None for JSON and TOML cards."""
    source_version: CardVersion


def parse_card(data: bytes, *, filename: str, persona_id: str | None = None) -> ParsedCard:
    """Read a card file's bytes; the container is detected from the content.

    `filename` is only used in error messages and to recognise `.toml` and `.charx` files.
    `persona_id` defaults to `slugify(name)`. Nothing is stored: on any problem a
    `CardError` naming `filename` (and the field, when one is at fault) is raised.
    """
    if not data:
        raise CardFormatError(filename, "file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise CardTooLargeError(
            filename, f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}"
        )
    avatar: bytes | None = None
    from_toml = False
    match sniff(data, filename=filename):
        case "png":
            _check_size(data, MAX_PNG_BYTES, "PNG card", filename)
            raw, avatar = card_from_png(data, source=filename)
        case "json":
            _check_size(data, MAX_JSON_BYTES, "JSON card", filename)
            raw = decode_json(data, source=filename)
        case "toml":
            _check_size(data, MAX_TOML_BYTES, "TOML card", filename)
            raw = card_from_toml(_utf8(data, filename), source=filename)
            from_toml = True
        case "zip":
            raise CardFormatError(
                filename,
                "is a ZIP/CHARX archive; CHARX cards are not supported, export the "
                "character as a PNG or JSON card instead",
            )
        case _:
            raise CardFormatError(filename, describe_unknown(data))
    card, version = normalize_card(raw, source=filename)
    persona = persona_from_card(card, persona_id=persona_id, source=filename)
    return ParsedCard(
        persona=persona,
        card=card,
        avatar_png=avatar,
        source_version="toml" if from_toml else version,
    )


def _check_size(data: bytes, limit: int, label: str, source: str) -> None:
    if len(data) > limit:
        raise CardTooLargeError(
            source, f"{label} file is {len(data):,} bytes; the limit is {limit:,}"
        )


def _utf8(data: bytes, source: str) -> str:
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        raise CardFormatError(
            source, f"is not valid UTF-8 text (at byte {error.start:,})"
        ) from None
