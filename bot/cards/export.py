"""Export a persona as a Character Card V2: JSON bytes, or a PNG with the card embedded."""

from __future__ import annotations

import base64
import json
from typing import Any

from bot.cards.avatar import placeholder_png
from bot.cards.containers import CARD_KEYWORDS
from bot.cards.convert import card_from_persona
from bot.cards.errors import CardTooLargeError
from bot.cards.limits import MAX_JSON_BYTES, MAX_PNG_BYTES
from bot.cards.png import read_chunks, text_chunk, text_keyword, write_png
from bot.models import Persona


def export_json(persona: Persona) -> bytes:
    """The persona as a pretty-printed V2 card in UTF-8 JSON."""
    return _card_json(card_from_persona(persona), persona, indent=2)


def export_png(persona: Persona, avatar_png: bytes | None = None) -> bytes:
    """The persona as a V2 card in the `chara` text chunk of a PNG.

    Uses `avatar_png` as the image when given (any old card chunks in it are replaced),
    else a generated placeholder. Raises `CardError` if the avatar is not a valid PNG or
    the result would be larger than an import accepts.
    """
    source = f"avatar of persona {persona.id!r}"
    image = avatar_png if avatar_png is not None else placeholder_png(persona.name)
    chunks = read_chunks(image, source=source)
    kept = [c for c in chunks if (text_keyword(c) or "").lower() not in CARD_KEYWORDS]
    payload = _card_json(card_from_persona(persona), persona, indent=None)
    kept.insert(len(kept) - 1, text_chunk("chara", base64.b64encode(payload).decode("ascii")))
    png = write_png(kept)
    if len(png) > MAX_PNG_BYTES:
        raise CardTooLargeError(
            f"persona {persona.id!r}",
            f"PNG card would be {len(png):,} bytes; the limit is {MAX_PNG_BYTES:,} "
            "(use a smaller avatar)",
        )
    return png


def _card_json(card: dict[str, Any], persona: Persona, *, indent: int | None) -> bytes:
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(card, ensure_ascii=False, indent=indent, separators=separators)
    data = text.encode("utf-8")
    if len(data) > MAX_JSON_BYTES:
        raise CardTooLargeError(
            f"persona {persona.id!r}",
            f"card JSON would be {len(data):,} bytes; the limit is {MAX_JSON_BYTES:,}",
        )
    return data
