"""Lorebooks in and out: a card's `character_book` (V2/V3) and SillyTavern World Info JSON.

Parsing is all or nothing: a problem anywhere raises `LoreError` naming the entry and the
field, and nothing is kept. Fields the engine does not use are kept verbatim, so importing a
book and exporting it in the same format gives the same book back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from bot.errors import UserFacingError
from bot.lore.model import DEFAULT_ORDER, Logic, Lorebook, LoreEntry

Format = Literal["card", "world_info"]

MAX_BOOK_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_CONTENT_CHARS = 8000
MAX_KEYS = 50
MAX_KEY_CHARS = 200
MAX_SCAN_DEPTH = 100

# SillyTavern keeps these in a card entry's `extensions` when it exports a character book.
_EXT_LOGIC, _EXT_WHOLE, _EXT_DEPTH = "selectiveLogic", "match_whole_words", "scan_depth"
_EXT_EXCLUDE, _EXT_PREVENT = "exclude_recursion", "prevent_recursion"


class LoreError(UserFacingError):
    """A book that can't be used; the message names the entry and the field."""


def decode(raw: bytes, *, what: str = "The file") -> Any:
    """JSON from bytes, with the size limit and a clear error."""
    if len(raw) > MAX_BOOK_BYTES:
        raise LoreError(f"{what} is {len(raw):,} bytes; a lorebook may be {MAX_BOOK_BYTES:,}.")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise LoreError(f"{what} is not UTF-8 text.") from None
    except (ValueError, RecursionError) as error:
        raise LoreError(f"{what} is not valid JSON ({error}).") from None


def detect(data: Any) -> tuple[Format, Mapping[str, Any]]:
    """Which format `data` is and the book object in it (a whole card gives its book)."""
    if not isinstance(data, Mapping):
        raise LoreError("A lorebook must be a JSON object.")
    if isinstance(data.get("data"), Mapping):  # a V2/V3 card
        data = data["data"]
    if isinstance(data.get("character_book"), Mapping):
        data = data["character_book"]
    entries = data.get("entries")
    if isinstance(entries, Mapping):
        return "world_info", data
    if isinstance(entries, list):
        return "card", data
    raise LoreError(
        "That is not a lorebook: expected a SillyTavern World Info file, a card's "
        "`character_book`, or a card that has one."
    )


def parse(data: Any) -> Lorebook:
    """A book from any supported shape (raises LoreError)."""
    kind, book = detect(data)
    return from_world_info(book) if kind == "world_info" else from_card_book(book)


# ---- the card's character_book ---------------------------------------------------------------


def from_card_book(book: Mapping[str, Any]) -> Lorebook:
    """A book from a card's `character_book` object."""
    raw_entries = book.get("entries")
    if not isinstance(raw_entries, list):
        raise LoreError("The book's `entries` must be a list.")
    _check_count(len(raw_entries))
    entries = [_card_entry(raw, index) for index, raw in enumerate(raw_entries)]
    _check_unique(entries)
    return Lorebook(
        entries=tuple(entries),
        name=_text(book.get("name", ""), "The book", "name"),
        description=_text(book.get("description", ""), "The book", "description"),
        scan_depth=_depth(book.get("scan_depth"), "The book"),
        token_budget=_optional_int(book.get("token_budget"), "The book", "token_budget"),
        recursive=_bool(book.get("recursive_scanning") or False, "The book", "recursive"),
        source="card",
        raw=book,
    )


def _card_entry(raw: Any, index: int) -> LoreEntry:
    where = f"Entry {index + 1}"
    if not isinstance(raw, Mapping):
        raise LoreError(f"{where} is not an object.")
    ext = _mapping(raw.get("extensions"), where, "extensions")
    return _entry(
        where,
        uid=_int(raw.get("id", index), where, "id"),
        keys=_keys(raw.get("keys"), where, "keys"),
        content=_text(raw.get("content"), where, "content"),
        secondary_keys=_keys(raw.get("secondary_keys"), where, "secondary_keys"),
        selective=_bool(raw.get("selective") or False, where, "selective"),
        logic=_logic(ext.get(_EXT_LOGIC) or 0, where),
        constant=_bool(raw.get("constant") or False, where, "constant"),
        enabled=_bool(_default(raw.get("enabled"), True), where, "enabled"),
        order=_int(_default(raw.get("insertion_order"), DEFAULT_ORDER), where, "insertion_order"),
        case_sensitive=_bool(raw.get("case_sensitive") or False, where, "case_sensitive"),
        whole_words=_bool(_default(ext.get(_EXT_WHOLE), True), where, _EXT_WHOLE),
        scan_depth=_depth(ext.get(_EXT_DEPTH), where),
        comment=_text(raw.get("comment") or raw.get("name") or "", where, "comment"),
        exclude_recursion=_bool(ext.get(_EXT_EXCLUDE) or False, where, _EXT_EXCLUDE),
        prevent_recursion=_bool(ext.get(_EXT_PREVENT) or False, where, _EXT_PREVENT),
        raw=raw,
    )


def _card_fields(entry: LoreEntry, base_ext: Mapping[str, Any]) -> dict[str, Any]:
    ext = dict(base_ext)
    for key, value, default in (
        (_EXT_LOGIC, int(entry.logic), 0),
        (_EXT_WHOLE, entry.whole_words, True),
        (_EXT_DEPTH, entry.scan_depth, None),
        (_EXT_EXCLUDE, entry.exclude_recursion, False),
        (_EXT_PREVENT, entry.prevent_recursion, False),
    ):
        _put(ext, key, value, default)
    return {
        "id": entry.uid,
        "keys": list(entry.keys),
        "secondary_keys": list(entry.secondary_keys),
        "content": entry.content,
        "comment": entry.comment,
        "enabled": entry.enabled,
        "constant": entry.constant,
        "selective": entry.selective,
        "insertion_order": entry.order,
        "case_sensitive": entry.case_sensitive,
        "extensions": ext,
    }


def to_card_book(book: Lorebook) -> dict[str, Any]:
    """The book as a card's `character_book` object."""
    same = book.source == "card" and bool(book.raw)
    entries = []
    for entry in book.entries:
        raw = entry.raw if same else {}
        base_ext = _mapping(raw.get("extensions"), "entry", "extensions")
        fields = _card_fields(entry, base_ext)
        if raw:
            before = _card_fields(_card_entry(raw, entry.uid), base_ext)
            fields = _patched(raw, fields, before)
        entries.append(fields)
    result: dict[str, Any] = dict(book.raw) if same else {}
    before = _book_fields(from_card_book(book.raw)) if same else {}
    for key, value in _book_fields(book).items():
        changed = key not in before or value != before[key]
        if (key in result and changed) or (key not in result and value not in (None, "", False)):
            result[key] = value
    result.setdefault("extensions", {})
    result["entries"] = entries
    return result


# ---- SillyTavern World Info --------------------------------------------------------------------


def from_world_info(book: Mapping[str, Any]) -> Lorebook:
    """A book from a SillyTavern World Info file (`{"entries": {"0": {...}, ...}}`)."""
    raw_entries = book.get("entries")
    if not isinstance(raw_entries, Mapping):
        raise LoreError("The World Info file's `entries` must be an object.")
    _check_count(len(raw_entries))
    entries = [_wi_entry(raw, str(key)) for key, raw in raw_entries.items()]
    _check_unique(entries)
    return Lorebook(
        entries=tuple(entries),
        name=_text(book.get("name", ""), "The book", "name")
        if isinstance(book.get("name"), str)
        else "",
        source="world_info",
        raw=book,
    )


def _wi_entry(raw: Any, key: str) -> LoreEntry:
    where = f"Entry {key}"
    if not isinstance(raw, Mapping):
        raise LoreError(f"{where} is not an object.")
    return _entry(
        where,
        uid=_int(_default(raw.get("uid"), key), where, "uid"),
        keys=_keys(raw.get("key"), where, "key"),
        content=_text(raw.get("content"), where, "content"),
        secondary_keys=_keys(raw.get("keysecondary"), where, "keysecondary"),
        selective=_bool(raw.get("selective") or False, where, "selective"),
        logic=_logic(raw.get("selectiveLogic") or 0, where),
        constant=_bool(raw.get("constant") or False, where, "constant"),
        enabled=not _bool(raw.get("disable") or False, where, "disable"),
        order=_int(_default(raw.get("order"), DEFAULT_ORDER), where, "order"),
        case_sensitive=_bool(raw.get("caseSensitive") or False, where, "caseSensitive"),
        whole_words=_bool(_default(raw.get("matchWholeWords"), True), where, "matchWholeWords"),
        scan_depth=_depth(raw.get("scanDepth"), where),
        comment=_text(raw.get("comment") or "", where, "comment"),
        exclude_recursion=_bool(raw.get("excludeRecursion") or False, where, "excludeRecursion"),
        prevent_recursion=_bool(raw.get("preventRecursion") or False, where, "preventRecursion"),
        raw=raw,
    )


def _wi_fields(entry: LoreEntry) -> dict[str, Any]:
    return {
        "uid": entry.uid,
        "key": list(entry.keys),
        "keysecondary": list(entry.secondary_keys),
        "comment": entry.comment,
        "content": entry.content,
        "constant": entry.constant,
        "selective": entry.selective,
        "selectiveLogic": int(entry.logic),
        "order": entry.order,
        "disable": not entry.enabled,
        "excludeRecursion": entry.exclude_recursion,
        "preventRecursion": entry.prevent_recursion,
        "scanDepth": entry.scan_depth,
        "caseSensitive": entry.case_sensitive,
        "matchWholeWords": entry.whole_words,
    }


def to_world_info(book: Lorebook) -> dict[str, Any]:
    """The book as a SillyTavern World Info file."""
    same = book.source == "world_info" and bool(book.raw)
    entries: dict[str, Any] = {}
    for entry in book.entries:
        fields = _wi_fields(entry)
        if same and entry.raw:
            fields = _patched(entry.raw, fields, _wi_fields(_wi_entry(entry.raw, str(entry.uid))))
        entries[str(entry.uid)] = fields
    result = dict(book.raw) if same else {}
    result["entries"] = entries
    return result


def _patched(
    raw: Mapping[str, Any], fields: Mapping[str, Any], before: Mapping[str, Any]
) -> dict[str, Any]:
    """`raw` with the fields that changed since it was read written in: an absent field the
    reader filled with its default stays absent, so an untouched entry comes back as it was.
    """
    result = dict(raw)
    for key, value in fields.items():
        if value != before.get(key):
            result[key] = value
    return result


def _book_fields(book: Lorebook) -> dict[str, Any]:
    return {
        "name": book.name,
        "description": book.description,
        "scan_depth": book.scan_depth,
        "token_budget": book.token_budget,
        "recursive_scanning": book.recursive,
    }


# ---- storage -----------------------------------------------------------------------------------


def export(book: Lorebook, kind: Format) -> dict[str, Any]:
    """The book in a format."""
    return to_world_info(book) if kind == "world_info" else to_card_book(book)


def to_storage(book: Lorebook) -> dict[str, Any]:
    """What the memory keeps: the book in its source format, so nothing is lost."""
    kind: Format = "world_info" if book.source == "world_info" else "card"
    return {"format": kind, "book": export(book, kind)}


def from_storage(stored: Mapping[str, Any]) -> Lorebook:
    """A book read back from memory."""
    data = stored.get("book", {})
    if stored.get("format") == "world_info":
        return from_world_info(data)
    return from_card_book(data)


# ---- validation ------------------------------------------------------------------------------


def _entry(where: str, **fields: Any) -> LoreEntry:
    entry = LoreEntry(**fields)
    if len(entry.content) > MAX_CONTENT_CHARS:
        raise LoreError(f"{where}: `content` is {len(entry.content):,} characters; the limit "
                        f"is {MAX_CONTENT_CHARS:,}.")  # fmt: skip
    if not entry.keys and not entry.constant:
        raise LoreError(f"{where} has no keys and is not constant, so it could never fire.")
    return entry


def _check_count(count: int) -> None:
    if count > MAX_ENTRIES:
        raise LoreError(f"The book has {count:,} entries; the limit is {MAX_ENTRIES:,}.")


def _check_unique(entries: list[LoreEntry]) -> None:
    seen: set[int] = set()
    for entry in entries:
        if entry.uid in seen:
            raise LoreError(f"Two entries share the id {entry.uid}.")
        seen.add(entry.uid)


def _keys(value: Any, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        raise LoreError(f"{where}: `{name}` must be a list of words.")
    keys = []
    for key in value:
        if not isinstance(key, str):
            raise LoreError(f"{where}: `{name}` must hold text only.")
        key = " ".join(key.split())
        if len(key) > MAX_KEY_CHARS:
            raise LoreError(f"{where}: a key in `{name}` is over {MAX_KEY_CHARS} characters.")
        if key:
            keys.append(key)
    if len(keys) > MAX_KEYS:
        raise LoreError(f"{where}: `{name}` has {len(keys)} keys; the limit is {MAX_KEYS}.")
    return tuple(dict.fromkeys(keys))


def _text(value: Any, where: str, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LoreError(f"{where}: `{name}` must be text.")
    return value


def _bool(value: Any, where: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise LoreError(f"{where}: `{name}` must be true or false.")


def _int(value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise LoreError(f"{where}: `{name}` must be a whole number.")
    try:
        number = int(value)
    except ValueError:
        raise LoreError(f"{where}: `{name}` must be a whole number.") from None
    if abs(number) > 10**9:
        raise LoreError(f"{where}: `{name}` is out of range.")
    return number


def _optional_int(value: Any, where: str, name: str) -> int | None:
    return None if value is None else _int(value, where, name)


def _depth(value: Any, where: str) -> int | None:
    depth = _optional_int(value, where, "scan depth")
    if depth is not None and not 0 <= depth <= MAX_SCAN_DEPTH:
        raise LoreError(f"{where}: the scan depth must be between 0 and {MAX_SCAN_DEPTH}.")
    return depth


def _logic(value: Any, where: str) -> Logic:
    try:
        return Logic(_int(value, where, "selectiveLogic"))
    except ValueError:
        raise LoreError(f"{where}: `selectiveLogic` must be 0, 1, 2 or 3.") from None


def _mapping(value: Any, where: str, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise LoreError(f"{where}: `{name}` must be an object.")
    return value


def _default(value: Any, default: Any) -> Any:
    return default if value is None else value


def _put(target: dict[str, Any], key: str, value: Any, default: Any) -> None:
    """Write an extension field if it was there before or differs from the default."""
    if key in target or value != default:
        target[key] = value
