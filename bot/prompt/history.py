"""Pick the channel history that fits the budget, newest first, and render it as messages."""

from __future__ import annotations

import math
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
    costs: list[int] = field(default_factory=list)
    """Estimated tokens of each kept line (its message's overhead on the newest of a run)."""
    raws: list[int] = field(default_factory=list)
    """The same, uncalibrated."""
    tokens: int = 0
    raw: int = 0
    dropped: int = 0
    """Lines of `history` before the first one sent (OOC and blank lines included)."""
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
    step: int = 1,
) -> HistoryPick:
    """Walk `history` from the newest line back until `room` tokens are used.

    The newest `keep_recent` kept lines outrank the example pairs; after them the examples
    that still fit are reserved (first pairs first) and older lines fill what is left, up to
    `cap` tokens of history. The newest line is always kept.

    When lines must go, the first line sent is moved on to the next multiple of `step` (an
    index into `history`), never into the newest `keep_recent` lines: the start of the
    history, and so every byte before the newest lines, stays the same for `step` lines'
    worth of turns instead of changing every turn. `history` is expected to start where the
    rolling summary ends, so the steps restart with each fold.
    """
    pick = HistoryPick()
    reserved = -1
    limit = min(room, cap)
    previous: tuple[str, str] | None = None
    names: dict[str, str] = {}
    name_costs: dict[str, tuple[int, int]] = {}
    overhead = estimator.message_overhead
    factor = estimator.factor
    floor_free = estimator.floor_free
    indexes: list[int] = []
    first_unfit = -1
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
        raw = line.tokens if line.tokens > 0 and not line.ooc else estimator.estimate_raw(text)
        cost = math.ceil(raw * factor)
        if not floor_free:
            cost = max(cost, estimator.floor(text))
        if key == previous:
            cost, raw = cost + 1, raw + 1
        else:
            named = name_costs.get(key[1])
            if named is None:
                named = name_costs[key[1]] = (
                    estimator.count(key[1]) + 1,
                    estimator.estimate_raw(key[1]) + 1,
                )
            cost, raw = cost + overhead + named[0], raw + overhead + named[1]
        if len(pick.lines) == keep_recent and reserved < 0:
            reserved = _reserve_examples(pick, example_costs, room)
            limit = min(room - reserved, cap)
        if pick.tokens + cost > limit and pick.lines:
            first_unfit = index
            break
        pick.tokens += cost
        pick.raw += raw
        pick.lines.append((*key, text))
        pick.costs.append(cost)
        pick.raws.append(raw)
        indexes.append(index)
        previous = key
    if reserved < 0:
        _reserve_examples(pick, example_costs, room)
    if first_unfit >= 0:
        start = first_unfit + 1
        if step > 1:
            stepped = -(-start // step) * step
            protected = indexes[max(1, min(keep_recent, len(indexes))) - 1]
            if stepped <= protected:
                start = stepped
        while indexes and indexes[-1] < start:
            indexes.pop()
            pick.lines.pop()
            pick.tokens -= pick.costs.pop()
            pick.raw -= pick.raws.pop()
        pick.dropped = start
    return pick


def _reserve_examples(pick: HistoryPick, costs: Sequence[int], room: int) -> int:
    space = room - pick.tokens
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
    render: Callable[[str, str, str], ChatMessage] = (
        native_line if dialect == "native" else flat_line
    )
    group: list[str] = []
    for position in range(len(lines) - 1, -1, -1):
        role, name, text = lines[position]
        group.append(text)
        if position == 0 or lines[position - 1][:2] != (role, name):
            messages.append(render(role, name, "\n".join(group)))
            group = []
    return messages


def native_line(role: str, name: str, content: str) -> ChatMessage:
    """One message of the native dialect: the role with the speaker's name."""
    return {"role": role, "name": name, "content": content}


def flat_line(role: str, name: str, content: str) -> ChatMessage:
    """One message of the flat dialect: others' lines prefixed `Name: `, own lines bare."""
    if role == "assistant":
        return {"role": role, "content": content}
    return {"role": role, "content": f"{name}: {content}"}
