"""Lorebooks (World Info): the model, its formats, and which entries fire for a scene."""

from bot.lore.activation import Activation, CompiledBook, Fired, activate
from bot.lore.formats import (
    MAX_BOOK_BYTES,
    Format,
    LoreError,
    decode,
    export,
    from_card_book,
    from_storage,
    from_world_info,
    parse,
    to_card_book,
    to_storage,
    to_world_info,
)
from bot.lore.model import Logic, Lorebook, LoreEntry, Scope

__all__ = [
    "MAX_BOOK_BYTES",
    "Activation",
    "CompiledBook",
    "Fired",
    "Format",
    "Logic",
    "LoreEntry",
    "LoreError",
    "Lorebook",
    "Scope",
    "activate",
    "decode",
    "export",
    "from_card_book",
    "from_storage",
    "from_world_info",
    "parse",
    "to_card_book",
    "to_storage",
    "to_world_info",
]
