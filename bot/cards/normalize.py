"""Turn a V1, V2 or V3 card object into one validated Character Card V2 shape."""

from __future__ import annotations

import copy
from typing import Any, Final, Literal

from bot.cards.checks import as_dict, check_json_tree, check_text, check_text_list, type_name
from bot.cards.ensemble import read_ensemble
from bot.cards.errors import CardFieldError, CardFormatError
from bot.cards.limits import (
    FIELD_CHAR_LIMITS,
    MAX_GREETINGS,
    MAX_NAME_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
)

CardVersion = Literal["v1", "v2", "v3", "toml"]
"""Where a card came from: a spec version, or our hand-written TOML format."""

SPEC_V2: Final = "chara_card_v2"
SPEC_V3: Final = "chara_card_v3"
V1_FIELDS: Final = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
V2_TEXT_FIELDS: Final = (
    *V1_FIELDS,
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "creator",
    "character_version",
)
V2_FIELDS: Final = (*V2_TEXT_FIELDS, "alternate_greetings", "tags", "extensions", "character_book")
V3_FIELDS: Final = (
    "assets",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
)


def empty_card(name: str) -> dict[str, Any]:
    """A V2 card with every required field at its default."""
    data: dict[str, Any] = dict.fromkeys(V2_TEXT_FIELDS, "")
    data.update(name=name, alternate_greetings=[], tags=[], extensions={})
    return {"spec": SPEC_V2, "spec_version": "2.0", "data": data}


def normalize_card(raw: dict[str, Any], *, source: str) -> tuple[dict[str, Any], CardVersion]:
    """Validate a card object and return it as a V2 card plus the version it was written in.

    The result is a fresh deep copy: `{"spec": "chara_card_v2", "spec_version": "2.0",
    "data": {...}}` with every V2 field present. Unknown fields (top level, in `data`, in
    `extensions`) and V3-only fields are kept. Normalising a normalised card changes nothing.
    """
    spec = raw.get("spec")
    if spec is None and "name" not in raw and isinstance(raw.get("data"), dict):
        spec = SPEC_V2  # some exporters drop `spec` but keep the V2 `data` wrapper
    if spec is None:
        version: CardVersion = "v1"
        extras: dict[str, Any] = {}
        data = raw
    elif spec in (SPEC_V2, SPEC_V3):
        version = "v2" if spec == SPEC_V2 else "v3"
        data = as_dict(raw.get("data"), field="data", source=source)
        # V2 exporters repeat the V1 fields at the top level for old readers; `data` wins.
        skipped = {"spec", "spec_version", "data", *V1_FIELDS}
        extras = {key: value for key, value in raw.items() if key not in skipped}
    elif isinstance(spec, str):
        raise CardFormatError(
            source,
            f"uses an unsupported card spec {spec[:40]!r}; expected '{SPEC_V2}' or '{SPEC_V3}'",
        )
    else:
        raise CardFieldError(source, f"must be a string, not {type_name(spec)}", field="spec")
    check_json_tree(extras, source=source)
    check_json_tree(data, source=source)
    extras, data = copy.deepcopy(extras), copy.deepcopy(data)
    _normalize_data(data, source=source)
    ordered: dict[str, Any] = {key: data[key] for key in (*V2_FIELDS, *V3_FIELDS) if key in data}
    ordered.update(data)  # unknown fields keep their order, after the known ones
    return {**extras, "spec": SPEC_V2, "spec_version": "2.0", "data": ordered}, version


def _normalize_data(data: dict[str, Any], *, source: str) -> None:
    name = data.get("name")
    if name is None:
        raise CardFieldError(source, "is missing or empty", field="name")
    if not isinstance(name, str):
        raise CardFieldError(source, f"must be a string, not {type_name(name)}", field="name")
    data["name"] = check_name(name, source=source)
    for field in V2_TEXT_FIELDS[1:]:
        value = data.get(field)
        data[field] = "" if value is None else value
        check_text(data[field], field=field, limit=FIELD_CHAR_LIMITS[field], source=source)
    for field in ("alternate_greetings", "group_only_greetings"):
        if field in data or field == "alternate_greetings":
            data[field] = [] if data.get(field) is None else data[field]
            check_text_list(
                data[field],
                field=field,
                max_items=MAX_GREETINGS,
                item_limit=FIELD_CHAR_LIMITS["first_mes"],
                source=source,
            )
    data["tags"] = [] if data.get("tags") is None else data["tags"]
    check_text_list(
        data["tags"], field="tags", max_items=MAX_TAGS, item_limit=MAX_TAG_CHARS, source=source
    )
    data["extensions"] = {} if data.get("extensions") is None else data["extensions"]
    read_ensemble(as_dict(data["extensions"], field="extensions", source=source), source=source)
    _check_optional_fields(data, source=source)


def check_name(value: str, *, source: str) -> str:
    """Return the trimmed display name, or raise if it is empty, too long or multi-line."""
    name = value.strip()
    if not name:
        raise CardFieldError(source, "is missing or empty", field="name")
    if len(name) > MAX_NAME_CHARS:
        raise CardFieldError(
            source, f"is {len(name):,} characters; the limit is {MAX_NAME_CHARS}", field="name"
        )
    # The zero-width joiner is allowed because emoji sequences like 👩‍🚀 need it.
    if not name.replace("\u200d", "").isprintable():
        raise CardFieldError(
            source, "must be a single line without control characters", field="name"
        )
    return name


def _check_optional_fields(data: dict[str, Any], *, source: str) -> None:
    book = data.get("character_book")
    if book is not None:
        as_dict(book, field="character_book", source=source)
    if data.get("nickname") is not None:
        check_text(
            data["nickname"], field="nickname", limit=FIELD_CHAR_LIMITS["nickname"], source=source
        )
    if data.get("source") is not None:
        check_text_list(
            data["source"], field="source", max_items=MAX_TAGS, item_limit=2_048, source=source
        )
    assets = data.get("assets")
    if assets is not None:
        if not isinstance(assets, list):
            raise CardFieldError(
                source, f"must be a list of tables/objects, not {type_name(assets)}", field="assets"
            )
        for index, asset in enumerate(assets):
            as_dict(asset, field=f"assets[{index}]", source=source)
    notes = data.get("creator_notes_multilingual")
    if notes is not None:
        for language, text in as_dict(
            notes, field="creator_notes_multilingual", source=source
        ).items():
            check_text(
                text,
                field=f"creator_notes_multilingual.{language}",
                limit=FIELD_CHAR_LIMITS["creator_notes"],
                source=source,
            )
    for field in ("creation_date", "modification_date"):
        value = data.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise CardFieldError(
                source, f"must be a number (Unix time), not {type_name(value)}", field=field
            )
