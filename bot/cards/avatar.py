"""A small generated placeholder avatar: a solid colour picked from the persona's name."""

from __future__ import annotations

import hashlib
import struct
import zlib

from bot.cards.png import Chunk, write_png

PLACEHOLDER_SIZE = 128


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
