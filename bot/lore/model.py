"""A lorebook and its entries: the fields the engine uses, and everything else kept as is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

Scope = Literal["persona", "scene", "server"]
"""Where a book comes from: a persona's card, the scene (channel), or the server (guild)."""

SCOPE_RANK: dict[Scope, int] = {"persona": 0, "scene": 1, "server": 2}
"""On equal insertion order the persona's own book wins, then the scene's, then the server's
(the card spec lets the character's book take precedence)."""

DEFAULT_SCAN_DEPTH = 4
DEFAULT_ORDER = 100


class Logic(IntEnum):
    """How secondary keys combine with the keys (SillyTavern's `selectiveLogic` numbers)."""

    AND_ANY = 0
    """A key and at least one secondary key."""
    NOT_ALL = 1
    """A key, unless every secondary key appears too."""
    NOT_ANY = 2
    """A key and none of the secondary keys."""
    AND_ALL = 3
    """A key and every secondary key."""


@dataclass(frozen=True, slots=True)
class LoreEntry:
    """One entry: when it fires (keys and rules) and what it adds to the prompt."""

    uid: int
    keys: tuple[str, ...]
    content: str
    secondary_keys: tuple[str, ...] = ()
    selective: bool = False
    logic: Logic = Logic.AND_ANY
    constant: bool = False
    enabled: bool = True
    order: int = DEFAULT_ORDER
    """Insertion order: a higher number is more important and sits nearer the end."""
    case_sensitive: bool = False
    whole_words: bool = True
    scan_depth: int | None = None
    """Newest lines scanned for this entry (None: the book's depth)."""
    comment: str = ""
    exclude_recursion: bool = False
    """Never fired by another entry's content, only by the scene."""
    prevent_recursion: bool = False
    """Its content never fires other entries."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The object the entry was read from: exported again in its own format, it keeps every
    field the engine does not use, and every field nobody changed, exactly as it was."""

    @property
    def title(self) -> str:
        """A short name for lists: the comment, else the first key."""
        return self.comment or (self.keys[0] if self.keys else f"entry {self.uid}")


@dataclass(frozen=True, slots=True)
class Lorebook:
    """A book of entries with its own scan depth and token budget."""

    entries: tuple[LoreEntry, ...] = ()
    name: str = ""
    description: str = ""
    scan_depth: int | None = None
    token_budget: int | None = None
    recursive: bool = False
    source: str = "card"
    """The format the book was read in ("card" or "world_info")."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The book object it was read from, for exports in that format."""

    def entry(self, uid: int) -> LoreEntry | None:
        """The entry with `uid`, if any."""
        return next((entry for entry in self.entries if entry.uid == uid), None)

    def next_uid(self) -> int:
        """A uid no entry has."""
        return max((entry.uid for entry in self.entries), default=-1) + 1
