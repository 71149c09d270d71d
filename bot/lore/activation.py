"""Which lorebook entries fire for the scene right now, and which fit the lore budget.

The newest lines of the scene are scanned for each entry's keys (an entry's own scan depth,
else its book's, else `DEFAULT_SCAN_DEPTH`). Keys are plain text — never patterns — matched
case-insensitively unless the entry says otherwise, and as whole words (a key with CJK
characters, or starting or ending in a non-word character, matches anywhere: those scripts
have no spaces between words). Secondary keys apply with the entry's logic; constant entries
always fire; a recursive book lets fired entries' text fire others, at most
`RECURSION_DEPTH` rounds deep. Every fired entry of every scope then competes for one token
budget: the highest insertion order first (ties: the persona's book, the scene's, the
server's; then book order); those that fit go into the prompt lowest order first, so the most
important sit nearest the end.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from bot.lore.model import DEFAULT_SCAN_DEPTH, SCOPE_RANK, Logic, Lorebook, LoreEntry, Scope

RECURSION_DEPTH = 2
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Fired:
    """An entry that fired, why, and what it costs."""

    scope: Scope
    entry: LoreEntry
    reason: str
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class Activation:
    """The entries that go into the prompt, in prompt order, and those the budget left out."""

    fired: tuple[Fired, ...] = ()
    left_out: tuple[Fired, ...] = ()


_WORDS = re.compile(r"\w+")


@dataclass(slots=True)
class _Text:
    """Scanned text, with its words as sets so a one-word key costs one lookup."""

    text: str
    folded: str
    words: frozenset[str]
    tokens: list[str]
    """The folded text's words in order."""
    positions: dict[str, list[int]]
    """Where each folded word stands in `tokens`."""
    pairs: frozenset[tuple[str, str]]
    """Every two folded words that follow each other."""

    @classmethod
    def of(cls, text: str) -> _Text:
        folded = text.casefold()
        tokens = _WORDS.findall(folded)
        positions: dict[str, list[int]] = {}
        for index, token in enumerate(tokens):
            positions.setdefault(token, []).append(index)
        pairs = frozenset(itertools.pairwise(tokens))
        return cls(text, folded, frozenset(_WORDS.findall(text)), tokens, positions, pairs)

    def has_phrase(self, words: Sequence[str]) -> bool:
        """Whether the folded words follow each other somewhere in the text."""
        count = len(words)
        if any((a, b) not in self.pairs for a, b in itertools.pairwise(words)):
            return False
        return any(
            self.tokens[start : start + count] == words
            for start in self.positions.get(words[0], ())
        )


class _Key:
    __slots__ = ("exact", "folded", "parts", "pattern", "phrase", "single", "text")

    def __init__(self, text: str, *, case_sensitive: bool, whole_words: bool) -> None:
        self.text = text
        self.exact = case_sensitive
        self.folded = text if case_sensitive else text.casefold()
        bounded = whole_words and not _CJK.search(text) and text[:1].isalnum()
        bounded = bounded and text[-1:].isalnum()
        flags = 0 if case_sensitive else re.IGNORECASE
        # Only a case-sensitive whole-word key is checked with a pattern; the others compare
        # words (see `found_in`), so compiling one for them would be wasted.
        exact_bounded = bounded and case_sensitive
        self.pattern = (
            re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", flags) if exact_bounded else None
        )
        parts = _WORDS.findall(self.folded)
        self.single = bounded and len(parts) == 1 and parts[0] == self.folded
        self.parts = frozenset(parts) if bounded else frozenset()
        self.phrase = parts if bounded and not case_sensitive else []

    def found_in(self, scanned: _Text) -> bool:
        if self.phrase:  # a whole-word key: compare words, never search the text
            if len(self.phrase) == 1:
                return self.phrase[0] in scanned.positions
            return scanned.has_phrase(self.phrase)
        if self.parts and not self.parts <= scanned.words:
            return False  # a case-sensitive key with a word missing: no need to search
        if self.folded not in (scanned.text if self.exact else scanned.folded):
            return False
        return self.pattern is None or self.pattern.search(scanned.text) is not None


class _Entry:
    __slots__ = ("depth", "entry", "keys", "secondary")

    def __init__(self, entry: LoreEntry, book_depth: int | None) -> None:
        self.entry = entry
        self.depth = entry.scan_depth if entry.scan_depth is not None else book_depth
        options = {"case_sensitive": entry.case_sensitive, "whole_words": entry.whole_words}
        self.keys = [_Key(key, **options) for key in entry.keys]
        self.secondary = [_Key(key, **options) for key in entry.secondary_keys]

    def match(self, scanned: _Text) -> str | None:
        """Why the entry fires on this text, or None."""
        hit = next((key for key in self.keys if key.found_in(scanned)), None)
        if hit is None:
            return None
        entry = self.entry
        if not entry.selective or not self.secondary:
            return f"key “{hit.text}”"
        present = [key.text for key in self.secondary if key.found_in(scanned)]
        ok = {
            Logic.AND_ANY: bool(present),
            Logic.AND_ALL: len(present) == len(self.secondary),
            Logic.NOT_ANY: not present,
            Logic.NOT_ALL: len(present) < len(self.secondary),
        }[entry.logic]
        if not ok:
            return None
        if present:
            return f"key “{hit.text}” with “{present[0]}”"
        return f"key “{hit.text}” without its secondary keys"


class CompiledBook:
    """A book with its matchers built once (rebuild it when the book changes)."""

    def __init__(self, scope: Scope, book: Lorebook) -> None:
        self.scope = scope
        self.book = book
        depth = book.scan_depth if book.scan_depth is not None else DEFAULT_SCAN_DEPTH
        self.entries = [_Entry(entry, depth) for entry in book.entries if entry.enabled]
        self.depth = max((item.depth or 0 for item in self.entries), default=0)
        """The most newest lines any of its entries scans."""

    @cached_property
    def rank(self) -> int:
        """Where the book's scope stands when insertion orders tie."""
        return SCOPE_RANK[self.scope]


class _Scan:
    """The newest lines, joined per scan depth (computed once per depth)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = lines
        self._texts: dict[int, _Text] = {}

    def text(self, depth: int) -> _Text:
        found = self._texts.get(depth)
        if found is None:
            joined = "\n".join(self._lines[-depth:]) if depth > 0 else ""
            found = self._texts[depth] = _Text.of(joined)
        return found


def activate(
    books: Sequence[CompiledBook],
    lines: Sequence[str],
    *,
    budget_tokens: int,
    count_tokens: Callable[[str], int],
) -> Activation:
    """The entries that fire for `lines` (newest last) and fit `budget_tokens`."""
    scan = _Scan(lines)
    fired: dict[tuple[int, int], Fired] = {}
    position: dict[tuple[int, int], int] = {}
    for index, book in enumerate(books):
        for place, item in enumerate(book.entries):
            entry = item.entry
            reason = "constant" if entry.constant else None
            if reason is None and item.depth:
                reason = item.match(scan.text(item.depth))
            if reason is not None:
                fired[(index, entry.uid)] = Fired(book.scope, entry, reason)
                position[(index, entry.uid)] = place
    _recurse(books, fired, position)
    ranked = sorted(
        fired.items(),
        key=lambda kv: (-kv[1].entry.order, books[kv[0][0]].rank, kv[0][0], position[kv[0]]),
    )
    kept: list[tuple[tuple[int, int], Fired]] = []
    left_out: list[Fired] = []
    used = 0
    for key, hit in ranked:
        cost = count_tokens(hit.entry.content)
        costed = Fired(hit.scope, hit.entry, hit.reason, cost)
        if used + cost <= budget_tokens:
            used += cost
            kept.append((key, costed))
        else:
            left_out.append(costed)
    kept.reverse()
    return Activation(tuple(hit for _, hit in kept), tuple(left_out))


def _recurse(
    books: Sequence[CompiledBook],
    fired: dict[tuple[int, int], Fired],
    position: dict[tuple[int, int], int],
) -> None:
    """Let fired entries' text fire more entries of recursive books, a bounded number of
    rounds deep.
    """
    if not any(book.book.recursive for book in books):
        return
    fresh = list(fired.values())
    for _ in range(RECURSION_DEPTH):
        text = "\n".join(hit.entry.content for hit in fresh if not hit.entry.prevent_recursion)
        if not text:
            return
        scanned = _Text.of(text)
        fresh = []
        for index, book in enumerate(books):
            if not book.book.recursive:
                continue
            for place, item in enumerate(book.entries):
                key = (index, item.entry.uid)
                if key in fired or item.entry.exclude_recursion:
                    continue
                reason = item.match(scanned)
                if reason is not None:
                    found = Fired(book.scope, item.entry, f"{reason} in another entry")
                    fired[key] = found
                    position[key] = place
                    fresh.append(found)
        if not fresh:
            return
