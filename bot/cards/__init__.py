"""Character cards: import (V1/V2/V3 JSON and PNG, hand-written TOML), export, validation."""

from bot.cards.avatar import (
    AVATAR_KEY,
    placeholder_png,
    split_avatar,
    stored_avatar_png,
    webhook_avatar_png,
    with_avatar,
)
from bot.cards.convert import card_from_persona, persona_from_card, validate_persona
from bot.cards.errors import (
    CardError,
    CardFieldError,
    CardFormatError,
    CardTooLargeError,
    PersonaFolderError,
)
from bot.cards.export import export_json, export_png
from bot.cards.loader import (
    CARD_SUFFIXES,
    PersonaLoadResult,
    assign_persona_ids,
    load_card_file,
    load_persona_file,
    load_personas_dir,
    persona_id_for_file,
)
from bot.cards.normalize import CardVersion, normalize_card
from bot.cards.parse import MAX_FILE_BYTES, ParsedCard, parse_card
from bot.cards.png import strip_text_chunks
from bot.cards.slug import is_valid_persona_id, slugify

__all__ = [
    "AVATAR_KEY",
    "CARD_SUFFIXES",
    "MAX_FILE_BYTES",
    "CardError",
    "CardFieldError",
    "CardFormatError",
    "CardTooLargeError",
    "CardVersion",
    "ParsedCard",
    "PersonaFolderError",
    "PersonaLoadResult",
    "assign_persona_ids",
    "card_from_persona",
    "export_json",
    "export_png",
    "is_valid_persona_id",
    "load_card_file",
    "load_persona_file",
    "load_personas_dir",
    "normalize_card",
    "parse_card",
    "persona_from_card",
    "persona_id_for_file",
    "placeholder_png",
    "slugify",
    "split_avatar",
    "stored_avatar_png",
    "strip_text_chunks",
    "validate_persona",
    "webhook_avatar_png",
    "with_avatar",
]
