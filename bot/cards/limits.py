"""Size limits for character cards; every reader checks these before doing any work."""

from __future__ import annotations

from typing import Final

MAX_PNG_BYTES: Final = 2 * 1024 * 1024
"""A PNG card, avatar image included."""

MAX_WEBHOOK_AVATAR_BYTES: Final = 1024 * 1024
"""An avatar uploaded as a persona webhook's own picture (text chunks already removed).

Discord documents no size limit for uploaded image data, so this is a conservative cap: a
larger picture is skipped rather than risk a rejected upload."""

MAX_JSON_BYTES: Final = 512 * 1024
"""A JSON card, and the JSON decoded from a PNG text chunk."""

MAX_TOML_BYTES: Final = 512 * 1024
"""A hand-written TOML card."""

MAX_CARD_CHUNK_BYTES: Final = 700 * 1024
"""A `chara`/`ccv3` PNG text chunk, after inflating it when it is compressed; room for the
base64 of the largest JSON card (4/3 × 512 KiB ≈ 683 KiB) plus chunk headers."""

MAX_PNG_CHUNKS: Final = 10_000
"""Chunks in a PNG card; real images have a few dozen."""

MAX_NESTING_DEPTH: Final = 64
"""Objects and arrays nested inside a card."""

MAX_NAME_CHARS: Final = 64
MAX_PERSONA_ID_CHARS: Final = 64

FIELD_CHAR_LIMITS: Final[dict[str, int]] = {
    "description": 12_000,
    "personality": 4_000,
    "scenario": 4_000,
    "first_mes": 6_000,
    "mes_example": 12_000,
    "system_prompt": 6_000,
    "post_history_instructions": 3_000,
    "creator_notes": 8_000,
    "creator": 200,
    "character_version": 64,
    "nickname": MAX_NAME_CHARS,
}
"""Characters allowed in each text field of a card's `data`."""

MAX_GREETINGS: Final = 32
"""Entries of `alternate_greetings` and of `group_only_greetings`; each is bounded like
`first_mes`."""

MAX_TAGS: Final = 64
MAX_TAG_CHARS: Final = 64
MAX_CALL_WORDS: Final = 32
MAX_CALL_WORD_CHARS: Final = 64
MAX_URL_CHARS: Final = 2_048
MAX_COMPLETION_TOKENS: Final = 2_048
"""M2-her's ceiling for `max_completion_tokens`."""
