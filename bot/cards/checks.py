"""Small type and size checks shared by the card readers; each raises a `CardError`."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from bot.cards.errors import CardFieldError, CardTooLargeError
from bot.cards.limits import MAX_NESTING_DEPTH

# JSON can smuggle these in as \u escapes; they break UTF-8 export and database text columns.
_UNSAFE_CHARS = re.compile("[\x00\ud800-\udfff]")


def type_name(value: object) -> str:
    """Name a value's type the way a card author would (JSON/TOML words)."""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list() | tuple():
            return "a list"
        case Mapping():
            return "a table/object"
        case _:
            return f"a {type(value).__name__}"


def check_text(value: object, *, field: str, limit: int, source: str) -> str:
    """Return `value` if it is a string of at most `limit` characters."""
    if not isinstance(value, str):
        raise CardFieldError(source, f"must be a string, not {type_name(value)}", field=field)
    if len(value) > limit:
        raise CardTooLargeError(
            source, f"is {len(value):,} characters; the limit is {limit:,}", field=field
        )
    return value


def check_text_list(
    value: object, *, field: str, max_items: int, item_limit: int, source: str
) -> list[str]:
    """Return `value` if it is a list of at most `max_items` bounded strings."""
    if not isinstance(value, list):
        raise CardFieldError(
            source, f"must be a list of strings, not {type_name(value)}", field=field
        )
    if len(value) > max_items:
        raise CardTooLargeError(
            source, f"has {len(value):,} entries; the limit is {max_items:,}", field=field
        )
    for index, item in enumerate(value):
        check_text(item, field=f"{field}[{index}]", limit=item_limit, source=source)
    return value


def check_number(
    value: object,
    *,
    field: str,
    source: str,
    low: float,
    high: float,
    low_inclusive: bool = True,
) -> float:
    """Return `value` as a float if it is a number within the given range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CardFieldError(source, f"must be a number, not {type_name(value)}", field=field)
    number = float(value)
    too_low = number < low or (number == low and not low_inclusive)
    if not math.isfinite(number) or too_low or number > high:
        opening = "[" if low_inclusive else "("
        raise CardFieldError(
            source, f"is {value}; it must be in the range {opening}{low}, {high}]", field=field
        )
    return number


def check_json_tree(value: object, *, source: str, field: str | None = None) -> None:
    """Check that `value` is plain JSON data (no dates, NaN or deep nesting).

    Iterative on purpose: a hostile card must not be able to exhaust the recursion limit.
    """
    pending: list[tuple[object, str, int]] = [(value, field or "", 0)]
    while pending:
        item, path, depth = pending.pop()
        if depth > MAX_NESTING_DEPTH:
            top_level = re.split(r"[.\[]", path, maxsplit=1)[0]
            raise CardFieldError(
                source,
                f"is nested more than {MAX_NESTING_DEPTH} levels deep",
                field=top_level or None,
            )
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or _UNSAFE_CHARS.search(key):
                    raise CardFieldError(source, "has an invalid key", field=path or None)
                pending.append((child, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(item, list):
            pending.extend(
                (child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item)
            )
        elif isinstance(item, str) and _UNSAFE_CHARS.search(item):
            raise CardFieldError(
                source, "contains a NUL character or an unpaired surrogate", field=path or None
            )
        elif isinstance(item, float) and not math.isfinite(item):
            raise CardFieldError(source, "must be a finite number", field=path or None)
        elif item is not None and not isinstance(item, str | int | float | bool):
            raise CardFieldError(
                source,
                f"is {type_name(item)}; only strings, numbers, booleans, lists and tables "
                "are allowed",
                field=path or None,
            )


def as_dict(value: Any, *, field: str, source: str) -> dict[str, Any]:
    """Return `value` if it is an object/table, else raise `CardFieldError`."""
    if not isinstance(value, dict):
        raise CardFieldError(source, f"must be a table/object, not {type_name(value)}", field=field)
    return value
