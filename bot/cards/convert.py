"""Convert between card objects and `Persona`, and validate a `Persona` built in code."""

from __future__ import annotations

from typing import Any

from bot.cards.checks import check_text, check_text_list
from bot.cards.ensemble import (
    DEFAULT_TALKATIVENESS,
    NAMESPACE,
    EnsembleSettings,
    read_ensemble,
)
from bot.cards.errors import CardFieldError
from bot.cards.limits import FIELD_CHAR_LIMITS, MAX_GREETINGS
from bot.cards.normalize import check_name, empty_card, normalize_card
from bot.cards.slug import check_persona_id, slugify
from bot.models import Persona

_PERSONA_TO_CARD = {
    "description": "description",
    "personality": "personality",
    "scenario": "scenario",
    "first_message": "first_mes",
    "example_dialogue": "mes_example",
    "system_prompt": "system_prompt",
    "post_history_instructions": "post_history_instructions",
}


def persona_from_card(
    card: dict[str, Any], *, persona_id: str | None = None, source: str = "<card>"
) -> Persona:
    """Build a `Persona` from a V1, V2 or V3 card object.

    `persona_id` defaults to `slugify(name)`. `Persona.card` holds the normalised V2 card
    (see `normalize_card`), so unknown fields and extensions survive an export.
    """
    normalized, _ = normalize_card(card, source=source)
    data = normalized["data"]
    settings = read_ensemble(data["extensions"], source=source)
    persona = Persona(
        id=check_persona_id(persona_id or slugify(data["name"]), source=source),
        name=data["name"],
        alternate_greetings=tuple(data["alternate_greetings"]),
        avatar_url=settings.avatar_url,
        talkativeness=_talkativeness(settings),
        call_words=settings.call_words,
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_tokens,
        card=normalized,
        **{attr: data[key] for attr, key in _PERSONA_TO_CARD.items()},
    )
    validate_persona(persona, source=source)
    return persona


def card_from_persona(persona: Persona) -> dict[str, Any]:
    """Return the persona as a normalised V2 card (a fresh dict, safe to modify).

    Starts from `persona.card` so unknown fields survive, then writes the persona's values
    over it. Our settings go to `extensions.ensemble` only where the card does not already
    imply them, so exporting an imported card gives back an equal card.
    """
    source = f"persona {persona.id!r}"
    validate_persona(persona, source=source)
    if persona.card:
        card, _ = normalize_card(dict(persona.card), source=source)
    else:
        card = empty_card(persona.name)
    data = card["data"]
    data["name"] = persona.name
    data["alternate_greetings"] = list(persona.alternate_greetings)
    for attr, key in _PERSONA_TO_CARD.items():
        data[key] = getattr(persona, attr)
    _write_ensemble(data["extensions"], persona, source=source)
    return card


def validate_persona(persona: Persona, *, source: str | None = None) -> None:
    """Raise `CardError` if any field of `persona` breaks a card limit or range."""
    where = source or f"persona {persona.id!r}"
    check_persona_id(persona.id, source=where)
    if check_name(persona.name, source=where) != persona.name:
        raise CardFieldError(where, "must not start or end with whitespace", field="name")
    for attr, key in _PERSONA_TO_CARD.items():
        check_text(getattr(persona, attr), field=key, limit=FIELD_CHAR_LIMITS[key], source=where)
    check_text_list(
        list(persona.alternate_greetings),
        field="alternate_greetings",
        max_items=MAX_GREETINGS,
        item_limit=FIELD_CHAR_LIMITS["first_mes"],
        source=where,
    )
    settings: dict[str, Any] = {
        "talkativeness": persona.talkativeness,
        "call_words": list(persona.call_words),
    }
    for key in ("avatar_url", "temperature", "top_p", "max_tokens"):
        if getattr(persona, key) is not None:
            settings[key] = getattr(persona, key)
    read_ensemble({NAMESPACE: settings}, source=where)


def _talkativeness(settings: EnsembleSettings) -> float:
    return DEFAULT_TALKATIVENESS if settings.talkativeness is None else settings.talkativeness


def _write_ensemble(extensions: dict[str, Any], persona: Persona, *, source: str) -> None:
    implied = read_ensemble(extensions, source=source)
    table: dict[str, Any] = dict(extensions.get(NAMESPACE, {}))
    wanted: dict[str, Any] = {
        "talkativeness": (persona.talkativeness, _talkativeness(implied)),
        "call_words": (list(persona.call_words), list(implied.call_words)),
        "avatar_url": (persona.avatar_url, implied.avatar_url),
        "temperature": (persona.temperature, implied.temperature),
        "top_p": (persona.top_p, implied.top_p),
        "max_tokens": (persona.max_tokens, implied.max_tokens),
    }
    for key, (value, current) in wanted.items():
        if value == current:
            continue
        if value is None or value == []:
            table.pop(key, None)
        else:
            table[key] = value
    if table or NAMESPACE in extensions:
        extensions[NAMESPACE] = table
