"""Minimal PNG chunk reader/writer (struct + zlib) that trusts nothing in the file."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from bot.cards.errors import CardFormatError, CardTooLargeError
from bot.cards.limits import MAX_PNG_CHUNKS

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_MAX_CHUNK_LENGTH: Final = 2**31 - 1
_CHUNK_HEADER: Final = struct.Struct(">I4s")
_CRC: Final = struct.Struct(">I")

TEXT_CHUNK_TYPES: Final = frozenset({b"tEXt", b"zTXt", b"iTXt"})
"""PNG chunks that carry text (a card, comments, tool metadata) rather than the image."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One PNG chunk: a four-letter type and its data (length and CRC are derived)."""

    type: bytes
    data: bytes

    @property
    def name(self) -> str:
        """The chunk type as text, e.g. 'tEXt'."""
        return self.type.decode("ascii")


def read_chunks(data: bytes, *, source: str) -> list[Chunk]:
    """Split a PNG into chunks, checking the signature, every length and every CRC.

    Reading stops at IEND; anything after it is ignored. Raises `CardFormatError` for a
    file that is not a PNG, is truncated or is corrupt.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise CardFormatError(source, "is not a PNG file (bad signature)")
    chunks: list[Chunk] = []
    offset = len(PNG_SIGNATURE)
    while True:
        if offset + _CHUNK_HEADER.size > len(data):
            raise CardFormatError(source, "PNG is truncated: it ends without an IEND chunk")
        length, chunk_type = _CHUNK_HEADER.unpack_from(data, offset)
        if not (chunk_type.isascii() and chunk_type.isalpha()):
            raise CardFormatError(
                source, f"PNG is corrupt: invalid chunk type {chunk_type!r} at byte {offset:,}"
            )
        label = chunk_type.decode("ascii")
        if length > _MAX_CHUNK_LENGTH:
            raise CardFormatError(
                source, f"PNG is corrupt: chunk '{label}' at byte {offset:,} has length {length:,}"
            )
        body_start = offset + _CHUNK_HEADER.size
        body_end = body_start + length
        if body_end + _CRC.size > len(data):
            raise CardFormatError(
                source,
                f"PNG is truncated: chunk '{label}' at byte {offset:,} claims {length:,} bytes "
                f"but only {max(len(data) - body_start, 0):,} remain",
            )
        body = data[body_start:body_end]
        (expected_crc,) = _CRC.unpack_from(data, body_end)
        if zlib.crc32(body, zlib.crc32(chunk_type)) != expected_crc:
            raise CardFormatError(
                source, f"PNG is corrupt: chunk '{label}' at byte {offset:,} has a bad CRC"
            )
        if not chunks and chunk_type != b"IHDR":
            raise CardFormatError(source, f"PNG is corrupt: first chunk is '{label}', not IHDR")
        if len(chunks) >= MAX_PNG_CHUNKS:
            raise CardTooLargeError(source, f"PNG has more than {MAX_PNG_CHUNKS:,} chunks")
        chunks.append(Chunk(chunk_type, body))
        if chunk_type == b"IEND":
            return chunks
        offset = body_end + _CRC.size


def write_png(chunks: Iterable[Chunk]) -> bytes:
    """Serialise chunks into PNG bytes (signature, lengths and CRCs added)."""
    parts = [PNG_SIGNATURE]
    for chunk in chunks:
        parts.append(_CHUNK_HEADER.pack(len(chunk.data), chunk.type))
        parts.append(chunk.data)
        parts.append(_CRC.pack(zlib.crc32(chunk.data, zlib.crc32(chunk.type))))
    return b"".join(parts)


def strip_text_chunks(data: bytes, *, source: str) -> bytes:
    """The PNG `data` re-serialised without any tEXt/zTXt/iTXt chunk: just the picture.

    Every chunk is checked as `read_chunks` does, so a broken file raises `CardFormatError`
    (or `CardTooLargeError` for an absurd number of chunks) instead of being passed on.
    """
    return write_png(c for c in read_chunks(data, source=source) if c.type not in TEXT_CHUNK_TYPES)


def text_chunk(keyword: str, text: str) -> Chunk:
    """An uncompressed `tEXt` chunk; `text` must be Latin-1 (base64 always is)."""
    return Chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))


def text_keyword(chunk: Chunk) -> str | None:
    """The keyword of a tEXt/zTXt/iTXt chunk, or None for other chunks."""
    if chunk.type not in TEXT_CHUNK_TYPES:
        return None
    keyword, separator, _ = chunk.data.partition(b"\0")
    return keyword.decode("latin-1") if separator else None


def read_text(chunk: Chunk, *, source: str, limit: int) -> str:
    """Decode a tEXt/zTXt/iTXt chunk's text, inflating at most `limit` bytes.

    Raises `CardTooLargeError` when the text is (or would inflate to) more than `limit`
    bytes, and `CardFormatError` when the chunk is malformed.
    """
    keyword, _, rest = chunk.data.partition(b"\0")
    label = f"PNG text chunk '{keyword.decode('latin-1')[:40]}'"
    if len(rest) > limit:
        raise CardTooLargeError(source, f"{label} is {len(rest):,} bytes; the limit is {limit:,}")
    if chunk.type == b"tEXt":
        return rest.decode("latin-1")
    if chunk.type == b"zTXt":
        if rest[:1] != b"\0":
            raise CardFormatError(source, f"{label} uses an unknown compression method")
        return _inflate(rest[1:], source=source, label=label, limit=limit).decode("latin-1")
    if len(rest) < 2:
        raise CardFormatError(source, f"{label} is malformed")
    compressed, method = rest[0], rest[1]
    _, _, after_language = rest[2:].partition(b"\0")
    _, separator, payload = after_language.partition(b"\0")
    if not separator or compressed not in (0, 1) or (compressed and method != 0):
        raise CardFormatError(source, f"{label} is malformed")
    if compressed:
        payload = _inflate(payload, source=source, label=label, limit=limit)
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CardFormatError(
            source, f"{label} is not valid UTF-8 (at byte {error.start:,})"
        ) from None


def _inflate(payload: bytes, *, source: str, label: str, limit: int) -> bytes:
    """Decompress with a hard output cap, so a decompression bomb costs nothing."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(payload, limit + 1)
    except zlib.error:
        raise CardFormatError(source, f"{label} has corrupt compressed data") from None
    if len(text) > limit or inflater.unconsumed_tail:
        raise CardTooLargeError(
            source, f"{label} inflates to more than {limit:,} bytes; the limit is {limit:,}"
        )
    if not inflater.eof:
        raise CardFormatError(source, f"{label} has truncated compressed data")
    return text
