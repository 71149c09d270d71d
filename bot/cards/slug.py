"""Persona ids: stable slugs made of lowercase ASCII letters, digits and '-'."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from bot.cards.errors import CardFieldError
from bot.cards.limits import MAX_PERSONA_ID_CHARS

_ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_APOSTROPHES = re.compile(r"['’`]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """Derive a persona id from a display name; the same name always gives the same id.

    Accents are folded ("Zoë" → "zoe"); a name with no ASCII letters or digits at all gets
    "persona-" plus a short hash of the name.
    """
    folded = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", name))
    ascii_name = folded.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", ascii_name).strip("-")
    slug = slug[:MAX_PERSONA_ID_CHARS].rstrip("-")
    if slug:
        return slug
    return "persona-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def is_valid_persona_id(value: str) -> bool:
    """Whether `value` is a well-formed persona id."""
    return len(value) <= MAX_PERSONA_ID_CHARS and _ID_PATTERN.fullmatch(value) is not None


def check_persona_id(value: str, *, source: str) -> str:
    """Return `value` if it is a valid persona id, else raise `CardFieldError`."""
    if not is_valid_persona_id(value):
        raise CardFieldError(
            source,
            f"is {value!r}, which is not a valid persona id: use 1..{MAX_PERSONA_ID_CHARS} "
            f"lowercase letters, digits and single '-' (e.g. {slugify(value)!r})",
            field="id",
        )
    return value
