"""Unwrap card containers: JSON bytes, PNG `chara`/`ccv3` text chunks, hand-written TOML."""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import tomllib
from typing import Any, Final, Literal

from bot.cards.checks import type_name
from bot.cards.errors import CardFieldError, CardFormatError, CardTooLargeError
from bot.cards.limits import MAX_CARD_CHUNK_BYTES, MAX_JSON_BYTES
from bot.cards.normalize import SPEC_V2, V2_FIELDS, V3_FIELDS
from bot.cards.png import (
    PNG_SIGNATURE,
    Chunk,
    read_chunks,
    read_text,
    text_keyword,
    write_png,
)

Container = Literal["png", "json", "toml", "zip", "unknown"]

CARD_KEYWORDS: Final = ("ccv3", "chara")
"""PNG text keywords holding a card, best first (the V3 spec prefers `ccv3`)."""

_OTHER_FORMATS: Final = (
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF (WebP?) file"),
)


def sniff(data: bytes, *, filename: str) -> Container:
    """Guess the container from the content (and the name, only for TOML)."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".charx"):
        return "zip"
    if filename.lower().endswith(".toml"):
        return "toml"
    if data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"["):
        return "json"
    return "unknown"


def describe_unknown(data: bytes) -> str:
    """A short description of what a file that is not a card seems to be."""
    for magic, label in _OTHER_FORMATS:
        if data.startswith(magic):
            return f"is {label}, not a character card (use a PNG or JSON card)"
    return "is neither a PNG nor a JSON character card"


def decode_json(data: bytes, *, source: str, what: str = "file") -> dict[str, Any]:
    """Parse JSON bytes into an object, refusing NaN, deep nesting and non-objects."""
    if len(data) > MAX_JSON_BYTES:
        raise CardTooLargeError(
            source, f"{what} is {len(data):,} bytes; the limit is {MAX_JSON_BYTES:,}"
        )
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        raise CardFormatError(
            source, f"{what} is not valid UTF-8 (at byte {error.start:,})"
        ) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise CardFormatError(
            source,
            f"{what} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ) from None
    except RecursionError:
        raise CardFormatError(source, f"{what} is nested too deeply") from None
    except ValueError as error:  # e.g. NaN, or an integer with too many digits
        raise CardFormatError(source, f"{what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise CardFormatError(source, f"{what} must be a JSON object, not {type_name(value)}")
    return value


def card_from_png(data: bytes, *, source: str) -> tuple[dict[str, Any], bytes]:
    """Return the card object embedded in a PNG and the PNG without its card chunks."""
    chunks = read_chunks(data, source=source)
    found: dict[str, Chunk] = {}
    for chunk in chunks:
        keyword = (text_keyword(chunk) or "").lower()
        if keyword in CARD_KEYWORDS:
            found.setdefault(keyword, chunk)
    best = next((key for key in CARD_KEYWORDS if key in found), None)
    if best is None:
        raise CardFormatError(
            source, "PNG has no character card in it (no 'chara' or 'ccv3' text chunk)"
        )
    text = read_text(found[best], source=source, limit=MAX_CARD_CHUNK_BYTES)
    what = f"PNG text chunk '{best}'"
    compact = "".join(text.split())
    try:
        payload = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise CardFormatError(source, f"{what} is not valid base64") from None
    card = decode_json(payload, source=source, what=f"the card in {what}")
    return card, strip_card_chunks(chunks)


def strip_card_chunks(chunks: list[Chunk]) -> bytes:
    """Re-serialise a PNG without any `chara`/`ccv3` text chunks (the bare avatar)."""
    kept = [c for c in chunks if (text_keyword(c) or "").lower() not in CARD_KEYWORDS]
    return write_png(kept)


def card_from_toml(text: str, *, source: str) -> dict[str, Any]:
    """Parse a hand-written TOML card (V2 `data` fields at the top level) into a V2 card."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CardFormatError(source, f"is not valid TOML: {error}") from None
    except RecursionError:
        raise CardFormatError(source, "TOML is nested too deeply") from None
    known = (*V2_FIELDS, *V3_FIELDS)
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise CardFieldError(source, f"is not a card field{hint}", field=key)
    return {"spec": SPEC_V2, "spec_version": "2.0", "data": _strip_text(table)}


def _strip_text(table: dict[str, Any]) -> dict[str, Any]:
    """Trim the blank lines that TOML multi-line strings leave around card text."""
    stripped: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = [item.strip() for item in value]
        stripped[key] = value
    return stripped


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a card")
