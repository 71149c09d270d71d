"""What was cut to make a request fit, and the helper that shortens text to a token count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.text import cut_at_grapheme
from bot.tokens import TokenEstimator

__all__ = ["ELLIPSIS", "Cut", "shorten", "summarize_cuts"]

ELLIPSIS = "…"
_WORD_SEARCH = 0.2
"""A cut moves back to a space when one lies within this share of the kept text."""


@dataclass(frozen=True, slots=True)
class Cut:
    """One thing left out or shortened to fit the window, for the prompt inspector."""

    part: str
    """What kind of thing: "history", "example", "sheet", "note", "summary", "pin",
    "card", "scene", "post-history instructions", "newest line"."""
    label: str
    """Which one (a player's name, a note's label, a card field), or "" for a count."""
    action: Literal["dropped", "shortened"]
    tokens: int
    """Estimated tokens saved."""
    count: int = 1

    def describe(self) -> str:
        """One line, e.g. "sheet of Bob dropped (~1,200 tokens)"."""
        what = f"{self.count} {self.part}" if self.count != 1 else self.part
        if self.label:
            what = f"{what} {self.label}"
        return f"{what} {self.action} (~{self.tokens:,} tokens)"


def summarize_cuts(cuts: Sequence[Cut], *, names: int = 3) -> list[str]:
    """One line per kind of cut, e.g. "sheet of dropped: 31 (Bob, Ann, Cy, …), ~60,000
    tokens", in the order they were first made (the trim order).
    """
    groups: dict[tuple[str, str], list[Cut]] = {}
    for cut in cuts:
        groups.setdefault((cut.part, cut.action), []).append(cut)
    lines = []
    for (part, action), group in groups.items():
        count = sum(cut.count for cut in group)
        labels = [cut.label for cut in group if cut.label]
        shown = ", ".join(labels[:names]) + (", …" if len(labels) > names else "")
        tokens = sum(cut.tokens for cut in group)
        what = f"{part} {action}" + (f": {count}" if count > 1 else "")
        if shown:
            what += f" ({shown})"
        lines.append(f"{what}, ~{tokens:,} tokens")
    return lines


def shorten(
    text: str,
    tokens: int,
    estimator: TokenEstimator,
    *,
    keep: Literal["start", "end"] = "start",
) -> str:
    """`text` cut to at most `tokens` estimated tokens, at a word or character boundary.

    Keeps the start (or the end) and marks the cut with "…". Returns "" when not even one
    word fits; returns `text` unchanged when it already fits.
    """
    if estimator.count(text) <= tokens:
        return text
    room = tokens - estimator.count(ELLIPSIS)
    if room <= 0:
        return ""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        piece = text[:middle] if keep == "start" else text[len(text) - middle :]
        if estimator.count(piece) <= room:
            low = middle
        else:
            high = middle - 1
    if keep == "start":
        end = cut_at_grapheme(text, low)
        space = text.rfind(" ", 0, end)
        if space > 0 and end - space <= end * _WORD_SEARCH:
            end = space
        kept = text[:end].rstrip()
        return kept + ELLIPSIS if kept else ""
    start = len(text) - low
    while 0 < start < len(text) and cut_at_grapheme(text, start) != start:
        start += 1
    space = text.find(" ", start)
    if space >= 0 and space - start <= low * _WORD_SEARCH:
        start = space
    kept = text[start:].lstrip()
    return ELLIPSIS + kept if kept else ""
