"""Test helpers: sample cards and PNGs built by hand with struct + zlib (not bot.cards.png)."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def raw_chunk(chunk_type: bytes, data: bytes, *, crc: int | None = None) -> bytes:
    """One PNG chunk, serialised by hand; pass `crc` to forge a wrong checksum."""
    checksum = zlib.crc32(chunk_type + data) if crc is None else crc
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", checksum)


def raw_image_chunks() -> tuple[bytes, bytes, bytes]:
    """IHDR, IDAT and IEND of a 2×1 red/blue RGB image."""
    ihdr = raw_chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0))
    idat = raw_chunk(b"IDAT", zlib.compress(b"\0" + b"\xff\0\0" + b"\0\0\xff"))
    return ihdr, idat, raw_chunk(b"IEND", b"")


def raw_png(*text_chunks: bytes) -> bytes:
    """A tiny PNG with the given extra chunks placed between IDAT and IEND."""
    ihdr, idat, iend = raw_image_chunks()
    return SIGNATURE + ihdr + idat + b"".join(text_chunks) + iend


def card_b64(card: dict[str, Any]) -> bytes:
    """The card as the base64 text stored in a `chara`/`ccv3` chunk."""
    return base64.b64encode(json.dumps(card).encode("utf-8"))


def text_chunk(keyword: str, card: dict[str, Any]) -> bytes:
    """A tEXt chunk holding `card`."""
    return raw_chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + card_b64(card))


def ztxt_chunk(keyword: str, payload: bytes) -> bytes:
    """A zTXt chunk: keyword, NUL, method 0, zlib data."""
    return raw_chunk(b"zTXt", keyword.encode("latin-1") + b"\0\0" + zlib.compress(payload))


def itxt_chunk(keyword: str, payload: bytes, *, compressed: bool) -> bytes:
    """An iTXt chunk with empty language and translated keyword."""
    body = zlib.compress(payload) if compressed else payload
    flags = b"\x01\x00" if compressed else b"\x00\x00"
    return raw_chunk(b"iTXt", keyword.encode("latin-1") + b"\0" + flags + b"\0\0" + body)


def v1_card() -> dict[str, Any]:
    """A V1 card with an unknown top-level field."""
    return {
        "name": "Old Tom",
        "description": "{{char}} is a retired lighthouse keeper.",
        "personality": "gruff, kind",
        "scenario": "A lighthouse in a storm.",
        "first_mes": "*Tom squints at you.* Who's there?",
        "mes_example": "<START>\n{{user}}: Hello?\n{{char}}: Shut the door, you're letting fog in.",
        "tavern_legacy_field": {"kept": True},
    }


def v2_card() -> dict[str, Any]:
    """A V2 card with unknown fields at every level and other apps' extensions."""
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "exporter": "SomeTool 1.2",
        "data": {
            "name": "Seraphina",
            "description": "{{char}} is a forest guardian.",
            "personality": "caring, protective",
            "scenario": "{{user}} wakes in a glade.",
            "first_mes": "*Seraphina kneels beside you.* You're safe now.",
            "mes_example": "<START>\n{{user}}: Where am I?\n{{char}}: In my forest. Rest.",
            "creator_notes": "Gentle fantasy.",
            "system_prompt": "",
            "post_history_instructions": "Stay gentle.",
            "alternate_greetings": ["*She hums.* Awake at last?", "*Rain.* Come inside."],
            "character_book": {"entries": [{"keys": ["glade"], "content": "A sacred glade."}]},
            "tags": ["fantasy", "healer"],
            "creator": "someone",
            "character_version": "3.1",
            "extensions": {
                "talkativeness": "0.8",
                "fav": False,
                "depth_prompt": {"prompt": "Be kind.", "depth": 4},
                "agnai/voice": {"id": "abc"},
            },
            "future_field": [1, 2, {"x": None}],
        },
    }


def v3_card() -> dict[str, Any]:
    """A V3 card with V3-only fields and our own extension table."""
    return {
        "spec": "chara_card_v3",
        "spec_version": "3.0",
        "data": {
            "name": "Captain Ro",
            "description": "{{char}} commands a smuggler ship.",
            "personality": "bold",
            "scenario": "",
            "first_mes": "Welcome aboard.",
            "mes_example": "",
            "creator_notes": "",
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": [],
            "group_only_greetings": ["Crew, listen up."],
            "tags": ["sci-fi"],
            "creator": "",
            "character_version": "",
            "nickname": "Ro",
            "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
            "creator_notes_multilingual": {"en": "Space pirates."},
            "source": ["https://example.invalid/ro"],
            "creation_date": 1_700_000_000,
            "modification_date": 1_700_000_500,
            "extensions": {
                "ensemble": {
                    "talkativeness": 0.25,
                    "call_words": ["captain", "ro"],
                    "avatar_url": "https://example.invalid/ro.png",
                    "temperature": 0.7,
                    "top_p": 0.9,
                    "max_tokens": 320,
                },
                "risuai": {"bias": [["a", 1]]},
            },
        },
    }
