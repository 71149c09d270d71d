"""Load persona cards from files: one file, or every card in the personas folder."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bot.cards.avatar import with_avatar
from bot.cards.errors import CardError, CardFieldError, CardTooLargeError
from bot.cards.parse import MAX_FILE_BYTES, ParsedCard, parse_card
from bot.cards.slug import check_persona_id
from bot.models import Persona

CARD_SUFFIXES: Final = (".toml", ".json", ".png")
"""Files in a personas folder that are read as cards; everything else is ignored."""


@dataclass(slots=True)
class PersonaLoadResult:
    """Every persona that loaded, keyed by id, plus every problem found on the way."""

    personas: dict[str, Persona] = field(default_factory=dict)
    """A persona loaded from a PNG card carries the picture in its card, as imported ones do."""
    errors: list[CardError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file had a problem."""
        return not self.errors


def load_card_file(path: str | os.PathLike[str]) -> ParsedCard:
    """Read one card file; its stem is the persona id. Raises `CardError`."""
    file_path = Path(path)
    source = str(path)
    persona_id = check_persona_id(file_path.stem, source=source)
    try:
        with file_path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise CardTooLargeError(
                    source, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"
                )
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise CardError(source, f"cannot be read: {error.strerror or error}") from None
    return parse_card(data, filename=source, persona_id=persona_id)


def load_persona_file(path: str | os.PathLike[str]) -> Persona:
    """Read one card file into a `Persona`; its stem is the id. Raises `CardError`."""
    return load_card_file(path).persona


def load_personas_dir(directory: str | os.PathLike[str]) -> PersonaLoadResult:
    """Load every `.toml`, `.json` and `.png` card in `directory` (not recursive).

    Never raises for a bad card: each problem is collected in `errors` and the other
    cards still load. Two files with the same id, or two personas with the same display
    name, are errors too (the later file, in name order, is left out).
    """
    result = PersonaLoadResult()
    folder = Path(directory)
    try:
        paths = sorted(
            entry
            for entry in folder.iterdir()
            if entry.suffix.lower() in CARD_SUFFIXES and not entry.name.startswith(".")
        )
    except OSError as error:
        result.errors.append(
            CardError(str(directory), f"cannot be read: {error.strerror or error}")
        )
        return result
    sources: dict[str, str] = {}
    names: dict[str, str] = {}
    for path in paths:
        source = str(path)
        try:
            parsed = load_card_file(path)
        except CardError as error:
            result.errors.append(error)
            continue
        persona = parsed.persona
        if persona.id in sources:
            result.errors.append(
                CardFieldError(
                    source, f"'{persona.id}' is already used by {sources[persona.id]}", field="id"
                )
            )
            continue
        if persona.name.casefold() in names:
            result.errors.append(
                CardFieldError(
                    source,
                    f"'{persona.name}' is already used by {names[persona.name.casefold()]}",
                    field="name",
                )
            )
            continue
        sources[persona.id] = source
        names[persona.name.casefold()] = source
        if parsed.avatar_png is not None:
            persona = dataclasses.replace(
                persona, card=with_avatar(persona.card, parsed.avatar_png)
            )
        result.personas[persona.id] = persona
    return result
