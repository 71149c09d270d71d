"""Pick the channel history that fits the budget, newest first, and render it as messages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.models import AuthorKind, ChatMessage, Dialect, HistoryLine
from bot.text import sanitize_speaker_name, strip_invisible
from bot.tokens import TokenEstimator

__all__ = ["HistoryPick", "OocMode", "pick_history", "render_history"]

OocMode = Literal["drop", "mark"]
OOC_MARK = "(OOC) "


@dataclass(slots=True)
class HistoryPick:
    """The history lines chosen for a prompt, newest first, and what the choice cost."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)
    """`(role, name, text)` per kept line, newest first."""
    raw_tokens: int = 0
    dropped: int = 0
    kept_examples: int = 0


def pick_history(
    history: Sequence[HistoryLine],
    *,
    persona_id: str,
    persona_name: str,
    room: int,
    cap: int,
    example_costs: Sequence[int],
    keep_recent: int,
    estimator: TokenEstimator,
    ooc: OocMode,
) -> HistoryPick:
    """Walk `history` from the newest line back until `room` raw tokens are used.

    The newest `keep_recent` kept lines outrank the example pairs; after them the examples
    that still fit are reserved (first pairs first) and older lines fill what is left. Lines
    beyond `cap` raw tokens of history are dropped too. The newest line is always kept. Only
    the lines that end up in the prompt, plus the one that did not fit, are looked at.
    """
    pick = HistoryPick()
    reserved = -1
    limit = min(room, cap)
    previous: tuple[str, str] | None = None
    names: dict[str, str] = {}
    overhead = estimator.message_overhead
    for index in range(len(history) - 1, -1, -1):
        line = history[index]
        if line.ooc and ooc == "drop":
            continue
        text = strip_invisible(line.text).strip()
        if not text:
            continue
        if line.ooc:
            text = OOC_MARK + text
        if line.kind is AuthorKind.PERSONA and line.persona_id == persona_id:
            key = ("assistant", persona_name)
        else:
            name = names.get(line.speaker)
            if name is None:
                name = names[line.speaker] = sanitize_speaker_name(line.speaker)
            key = ("user", name)
        cost = line.tokens or estimator.estimate_raw(text)
        cost += 1 if key == previous else overhead + estimator.estimate_raw(key[1]) + 1
        if len(pick.lines) == keep_recent and reserved < 0:
            reserved = _reserve_examples(pick, example_costs, room)
            limit = min(room - reserved, cap)
        if pick.raw_tokens + cost > limit and pick.lines:
            pick.dropped = index + 1
            break
        pick.raw_tokens += cost
        pick.lines.append((*key, text))
        previous = key
    if reserved < 0:
        _reserve_examples(pick, example_costs, room)
    return pick


def _reserve_examples(pick: HistoryPick, costs: Sequence[int], room: int) -> int:
    space = room - pick.raw_tokens
    reserved = 0
    for cost in costs:
        if reserved + cost > space:
            break
        reserved += cost
        pick.kept_examples += 1
    return reserved


def render_history(lines: Sequence[tuple[str, str, str]], *, dialect: Dialect) -> list[ChatMessage]:
    """Messages for the picked lines (given newest first), consecutive speakers merged.

    Native: `name` on every message. Flat: no `name`; other speakers' messages start with
    `Name: `, the persona's own stay bare so the model does not learn to prefix its replies.
    """
    messages: list[ChatMessage] = []
    render: Callable[[str, str, str], ChatMessage] = _native if dialect == "native" else _flat
    group: list[str] = []
    for position in range(len(lines) - 1, -1, -1):
        role, name, text = lines[position]
        group.append(text)
        if position == 0 or lines[position - 1][:2] != (role, name):
            messages.append(render(role, name, "\n".join(group)))
            group = []
    return messages


def _native(role: str, name: str, content: str) -> ChatMessage:
    return {"role": role, "name": name, "content": content}


def _flat(role: str, name: str, content: str) -> ChatMessage:
    if role == "assistant":
        return {"role": role, "content": content}
    return {"role": role, "content": f"{name}: {content}"}
