"""Helpers specific to the /persona and /me tests: waiting for stored lines and card files."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import zlib
from typing import Any

from tests.harness import Scene


async def wait_for_stored(scene: Scene, count: int, timeout: float = 5.0) -> None:
    """Wait until the scene channel has `count` messages in the store."""
    async with asyncio.timeout(timeout):
        while await scene.services.store.count_messages(scene.channel.id) < count:
            await asyncio.sleep(0.01)


# ---- card files -------------------------------------------------------------------------------


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def image_png(rgb: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    """A 2×2 single-colour PNG with no text chunks."""
    row = b"\0" + bytes(rgb) * 2
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * 2))
        + chunk(b"IEND", b"")
    )


def png_with_text(keyword: str, text: bytes, image: bytes | None = None) -> bytes:
    """`image` (default `image_png()`) with a tEXt chunk `keyword` holding `text`."""
    base = image or image_png()
    end = base.rindex(b"IEND") - 4
    return base[:end] + chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text) + base[end:]


def card_png(keyword: str, card: dict[str, Any], image: bytes | None = None) -> bytes:
    """A PNG card: `card` as base64 JSON in a `chara` or `ccv3` text chunk."""
    return png_with_text(keyword, base64.b64encode(json.dumps(card).encode()), image)


def idat_of(png: bytes) -> bytes:
    """The concatenated image data of a PNG (what makes two images the same picture)."""
    data, at = b"", 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        if kind == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    return zlib.decompress(data)
