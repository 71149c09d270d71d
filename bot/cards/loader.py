"""Load persona cards from files: one file, or every card in the personas folder."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bot.cards.avatar import with_avatar
from bot.cards.errors import CardError, CardFieldError, CardTooLargeError, PersonaFolderError
from bot.cards.limits import MAX_PERSONA_ID_CHARS
from bot.cards.parse import MAX_FILE_BYTES, ParsedCard, parse_card
from bot.cards.slug import is_valid_persona_id, slugify
from bot.models import Persona

CARD_SUFFIXES: Final = (".toml", ".json", ".png")
"""Files in a personas folder that are read as cards; everything else is ignored."""


@dataclass(slots=True)
class PersonaLoadResult:
    """Every persona that loaded, keyed by id, plus every problem found on the way."""

    personas: dict[str, Persona] = field(default_factory=dict)
    """A persona loaded from a PNG card carries the picture in its card, as imported ones do."""
    errors: list[CardError] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    """The file each loaded persona came from, by persona id."""

    @property
    def ok(self) -> bool:
        """True when no file had a problem."""
        return not self.errors


def persona_id_for_file(path: str | os.PathLike[str]) -> str:
    """The id a card file's persona gets: the file name without its suffix when that is a
    valid id already (`narrator.toml` → `narrator`), else a slug of it (`Seraphina.png` →
    `seraphina`, `My Card (v2).json` → `my-card-v2`, `Ünïcode Name.png` → `unicode-name`).
    """
    stem = Path(path).stem
    return stem if is_valid_persona_id(stem) else slugify(stem)


def assign_persona_ids(paths: list[Path]) -> dict[Path, str]:
    """A distinct persona id for every card file, decided by the file names alone.

    Files whose names are already valid ids keep them; the others get slugs. When two files
    would share an id, the one later in name order (exact names before slugs) gets `-2`,
    `-3`... so the same folder always gives the same ids.
    """
    ordered = sorted(paths, key=lambda p: (not is_valid_persona_id(p.stem), p.name))
    taken: set[str] = set()
    ids: dict[Path, str] = {}
    for path in ordered:
        base = persona_id_for_file(path)
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            suffix = f"-{number}"
            candidate = base[: MAX_PERSONA_ID_CHARS - len(suffix)].rstrip("-") + suffix
        taken.add(candidate)
        ids[path] = candidate
    return ids


def load_card_file(path: str | os.PathLike[str], *, persona_id: str | None = None) -> ParsedCard:
    """Read one card file. Raises `CardError`.

    The persona's id is `persona_id`, or else derived from the file name (see
    `persona_id_for_file`).
    """
    file_path = Path(path)
    source = str(path)
    if persona_id is None:
        persona_id = persona_id_for_file(file_path)
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
    """Read one card file into a `Persona`, its id derived from the file name.

    Raises `CardError`.
    """
    return load_card_file(path).persona


def load_personas_dir(directory: str | os.PathLike[str]) -> PersonaLoadResult:
    """Load every `.toml`, `.json` and `.png` card in `directory` (not recursive).

    Never raises for a bad card: each problem is collected in `errors` and the other
    cards still load. Ids come from the file names (see `assign_persona_ids`); two
    personas with the same display name are an error (the later file, in name order, is
    left out). A missing or unreadable folder is one `PersonaFolderError` in `errors`.
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
            PersonaFolderError(str(directory), f"cannot be read: {error.strerror or error}")
        )
        return result
    ids = assign_persona_ids(paths)
    names: dict[str, str] = {}
    for path in paths:
        source = str(path)
        try:
            parsed = load_card_file(path, persona_id=ids[path])
        except CardError as error:
            result.errors.append(error)
            continue
        persona = parsed.persona
        if persona.name.casefold() in names:
            result.errors.append(
                CardFieldError(
                    source,
                    f"'{persona.name}' is already used by {names[persona.name.casefold()]}",
                    field="name",
                )
            )
            continue
        names[persona.name.casefold()] = source
        result.files[persona.id] = path
        if parsed.avatar_png is not None:
            persona = dataclasses.replace(
                persona, card=with_avatar(persona.card, parsed.avatar_png)
            )
        result.personas[persona.id] = persona
    return result
