"""Persona avatars: the placeholder image, and the picture a stored card carries."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import struct
import zlib
from collections.abc import Mapping
from typing import Any, Final

from bot.cards.errors import CardFormatError, CardTooLargeError
from bot.cards.limits import MAX_WEBHOOK_AVATAR_BYTES
from bot.cards.png import Chunk, strip_text_chunks, write_png

log = logging.getLogger(__name__)

PLACEHOLDER_SIZE = 128

AVATAR_KEY: Final = "ensemble_avatar_png"
"""Top-level key of a stored card holding the avatar of an imported PNG card (base64).

The store keeps one JSON card per persona, so the image travels with it; it is taken out
again before any export, so exported cards never carry it.
"""


def placeholder_png(seed: str, *, size: int = PLACEHOLDER_SIZE) -> bytes:
    """A `size`×`size` RGB PNG in a colour derived from `seed` (same seed, same image)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    # Keep each channel in 64..223 so the colour is neither near-black nor near-white.
    red, green, blue = (64 + byte % 160 for byte in digest[:3])
    row = b"\0" + bytes((red, green, blue)) * size  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return write_png(
        [
            Chunk(b"IHDR", header),
            Chunk(b"IDAT", zlib.compress(row * size, 9)),
            Chunk(b"IEND", b""),
        ]
    )


def stored_avatar_png(card: Mapping[str, Any], *, source: str) -> bytes | None:
    """The PNG bytes a stored card carries under `AVATAR_KEY`, or None when it has none.

    Raises `CardFormatError` when the value is there but is not base64 text.
    """
    encoded = card.get(AVATAR_KEY)
    if encoded is None:
        return None
    if not isinstance(encoded, str):
        raise CardFormatError(source, "stored avatar is not base64 text")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CardFormatError(source, "stored avatar is not valid base64") from None


def split_avatar(card: Mapping[str, Any]) -> tuple[dict[str, Any], bytes | None]:
    """A stored card without its avatar, and the avatar's PNG bytes if it has a usable one."""
    clean = {key: value for key, value in card.items() if key != AVATAR_KEY}
    try:
        return clean, stored_avatar_png(card, source="stored persona")
    except CardFormatError:
        log.warning("Ignoring a stored persona avatar that is not valid base64")
        return clean, None


def with_avatar(card: Mapping[str, Any], avatar_png: bytes | None) -> dict[str, Any]:
    """A card ready to store, carrying `avatar_png` (or no avatar)."""
    clean = {key: value for key, value in card.items() if key != AVATAR_KEY}
    if avatar_png is not None:
        clean[AVATAR_KEY] = base64.b64encode(avatar_png).decode("ascii")
    return clean


def webhook_avatar_png(card: Mapping[str, Any], *, source: str) -> bytes | None:
    """The picture to upload as the persona's webhook avatar, or None when the card has none.

    It is the stored avatar without any text chunk (a card's `chara`/`ccv3` JSON, comments,
    tool metadata), so only the image goes to Discord. Raises `CardFormatError` when the
    stored avatar is not a readable PNG and `CardTooLargeError` when the picture is larger
    than `MAX_WEBHOOK_AVATAR_BYTES`.
    """
    stored = stored_avatar_png(card, source=source)
    if stored is None:
        return None
    image = strip_text_chunks(stored, source=source)
    if len(image) > MAX_WEBHOOK_AVATAR_BYTES:
        raise CardTooLargeError(
            source,
            f"avatar is {len(image):,} bytes without its text chunks; a webhook avatar may be "
            f"at most {MAX_WEBHOOK_AVATAR_BYTES:,}",
        )
    return image
