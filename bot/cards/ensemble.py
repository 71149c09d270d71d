"""The `extensions.ensemble` table: Ensemble's own per-persona settings inside a card."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Final

from bot.cards.checks import as_dict, check_number, check_text, check_text_list
from bot.cards.errors import CardFieldError
from bot.cards.limits import (
    MAX_CALL_WORD_CHARS,
    MAX_CALL_WORDS,
    MAX_COMPLETION_TOKENS,
    MAX_URL_CHARS,
)

NAMESPACE: Final = "ensemble"
DEFAULT_TALKATIVENESS: Final = 0.5
ENSEMBLE_KEYS: Final = (
    "talkativeness",
    "call_words",
    "avatar_url",
    "temperature",
    "top_p",
    "max_tokens",
)
_FIELD = f"extensions.{NAMESPACE}"


@dataclass(frozen=True, slots=True)
class EnsembleSettings:
    """What a card's `extensions` say about our settings; `None` means not set."""

    talkativeness: float | None = None
    call_words: tuple[str, ...] = ()
    avatar_url: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


def read_ensemble(extensions: dict[str, Any], *, source: str) -> EnsembleSettings:
    """Validate and read `extensions.ensemble`, falling back to SillyTavern's talkativeness."""
    table = as_dict(extensions.get(NAMESPACE, {}), field=_FIELD, source=source)
    for key in table:
        if key not in ENSEMBLE_KEYS:
            raise CardFieldError(
                source, f"is not a known setting{_suggest(key)}", field=f"{_FIELD}.{key}"
            )
    talkativeness = _optional_unit(table, "talkativeness", source, low_inclusive=True)
    if talkativeness is None:
        talkativeness = _sillytavern_talkativeness(extensions.get("talkativeness"))
    call_words: tuple[str, ...] = ()
    if "call_words" in table:
        words = check_text_list(
            table["call_words"],
            field=f"{_FIELD}.call_words",
            max_items=MAX_CALL_WORDS,
            item_limit=MAX_CALL_WORD_CHARS,
            source=source,
        )
        if any(not word.strip() for word in words):
            raise CardFieldError(source, "has an empty entry", field=f"{_FIELD}.call_words")
        call_words = tuple(words)
    return EnsembleSettings(
        talkativeness=talkativeness,
        call_words=call_words,
        avatar_url=_optional_url(table, source),
        temperature=_optional_unit(table, "temperature", source, low_inclusive=False),
        top_p=_optional_unit(table, "top_p", source, low_inclusive=False),
        max_tokens=_optional_max_tokens(table, source),
    )


def _optional_unit(
    table: dict[str, Any], key: str, source: str, *, low_inclusive: bool
) -> float | None:
    if key not in table:
        return None
    field = f"{_FIELD}.{key}"
    return check_number(
        table[key], field=field, source=source, low=0.0, high=1.0, low_inclusive=low_inclusive
    )


def _optional_url(table: dict[str, Any], source: str) -> str | None:
    if "avatar_url" not in table:
        return None
    field = f"{_FIELD}.avatar_url"
    url = check_text(table["avatar_url"], field=field, limit=MAX_URL_CHARS, source=source)
    if not url.startswith(("https://", "http://")):
        raise CardFieldError(source, "must be an http(s) URL", field=field)
    return url


def _optional_max_tokens(table: dict[str, Any], source: str) -> int | None:
    if "max_tokens" not in table:
        return None
    value = table["max_tokens"]
    field = f"{_FIELD}.max_tokens"
    if isinstance(value, bool) or not isinstance(value, int):
        raise CardFieldError(source, "must be a whole number", field=field)
    if not 1 <= value <= MAX_COMPLETION_TOKENS:
        raise CardFieldError(
            source, f"is {value}; it must be between 1 and {MAX_COMPLETION_TOKENS}", field=field
        )
    return value


def _sillytavern_talkativeness(value: object) -> float | None:
    """SillyTavern keeps talkativeness as a string like "0.5"; ignore it when unusable."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0.0 <= number <= 1.0 else None


def _suggest(key: str) -> str:
    close = difflib.get_close_matches(key, ENSEMBLE_KEYS, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f"; known: {', '.join(ENSEMBLE_KEYS)}"
