"""Card macros (`{{char}}`, `{{user}}`) and example-dialogue parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import strip_invisible

__all__ = ["ExamplePair", "parse_example_dialogue", "resolve_macros"]

_MACRO = re.compile(r"\{\{\s*(char|user|original)\s*\}\}|<(bot|user)>", re.IGNORECASE)
_START = re.compile(r"^[ \t]*<start>[ \t]*$", re.IGNORECASE | re.MULTILINE)
_SPEAKER = re.compile(r"[ \t]*(?:\{\{\s*(char|user)\s*\}\}|<(bot|user)>)[ \t]*:[ \t]?", re.I)
_NO_USER_LINE = "…"
"""Stands in for the player's side when an example opens with the character speaking."""


def resolve_macros(text: str, *, char: str, user: str) -> str:
    """Replace `{{char}}`/`<BOT>` and `{{user}}`/`<USER>` (any case); drop `{{original}}`.

    `{{original}}` (Character Card V2: "insert the default prompt here") resolves to nothing
    because the house rules are always part of the system text anyway.
    """
    if "{" not in text and "<" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        key = (match[1] or match[2]).lower()
        return char if key in {"char", "bot"} else user if key == "user" else ""

    return _MACRO.sub(replace, text)


@dataclass(frozen=True, slots=True)
class ExamplePair:
    """One example exchange: what a player says, and how the character answers."""

    user: str
    ai: str


def parse_example_dialogue(
    text: str, *, char_name: str = "", max_pairs: int = 3
) -> list[ExamplePair]:
    """Parse a card's example dialogue into at most `max_pairs` exchanges, in card order.

    Blocks are separated by `<START>` lines (no marker: one block). A line starting with
    `{{user}}:`/`<USER>:` or `{{char}}:`/`<BOT>:` (or `char_name:`) starts a turn; other lines
    continue the current turn; consecutive turns of one speaker merge. A character turn with
    no player turn before it gets a "…" player side; a trailing player turn is dropped.
    Unlabelled text before the first turn is ignored, unless the block has no labels at
    all, in which case the whole block is one character turn. Macros are left in place.
    """
    pairs: list[ExamplePair] = []
    for block in _START.split(strip_invisible(text)):
        for user, ai in _pairs(_turns(block, char_name)):
            if len(pairs) == max_pairs:
                return pairs
            pairs.append(ExamplePair(user or _NO_USER_LINE, ai))
    return pairs


def _turns(block: str, char_name: str) -> list[tuple[bool, str]]:
    """`(is_char, text)` turns of one block, consecutive same-speaker turns merged."""
    turns: list[tuple[bool, list[str]]] = []
    own_label = f"{char_name}:" if char_name else None
    for line in block.splitlines():
        is_char: bool | None = None
        if match := _SPEAKER.match(line):
            is_char = (match[1] or match[2]).lower() in {"char", "bot"}
            line = line[match.end() :]
        elif own_label and line.lstrip().startswith(own_label):
            is_char, line = True, line.lstrip()[len(own_label) :].lstrip(" \t")
        if is_char is None:
            if turns:
                turns[-1][1].append(line)
            continue
        if turns and turns[-1][0] is is_char:
            turns[-1][1].append(line)
        else:
            turns.append((is_char, [line]))
    if not turns and block.strip():
        return [(True, block.strip())]
    return [(is_char, "\n".join(lines).strip()) for is_char, lines in turns]


def _pairs(turns: list[tuple[bool, str]]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pending_user = ""
    for is_char, text in turns:
        if not is_char:
            pending_user = text
        elif text:
            pairs.append((pending_user, text))
            pending_user = ""
    return pairs
