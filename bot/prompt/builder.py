"""Assemble the `messages` for one persona turn, guaranteed to fit the context window.

Message order (the same information in the same order in both dialects):
1. `system` named after the persona: card, house rules, post-history instructions;
2. one `user_system` per player sheet, in the order given (first appearance in the scene);
3. one `group`: the scene's name and setting;
4. the example pairs (`sample_message_user` / `sample_message_ai`);
5. a `user` message named "Story so far": rolling summary and pinned facts;
6. the history, `user`/`assistant` messages named after their speakers;
7. a `user` message named "Scene notes" with the per-turn notes, when there are any.
1–4 never change between turns (the provider caches them), 5 only when history is folded,
6 grows at its end and moves its start in steps, 7 is new every turn. Flat folds 2–4 into the
system text after the persona's part and prefixes names into the contents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from bot.models import AuthorKind, ChatMessage, Dialect, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt.cuts import Cut, shorten
from bot.prompt.examples import ExamplePair, parse_example_dialogue, resolve_macros
from bot.prompt.history import OocMode, flat_line, pick_history, render_history
from bot.prompt.notes import NOTES_SPEAKER, ContextNote, notes_text
from bot.prompt.system import (
    MEMORY_SPEAKER,
    PersonaText,
    flat_example_lines,
    flat_system_text,
    memory_text,
    native_system_text,
)
from bot.text import sanitize_speaker_name, strip_invisible
from bot.tokens import PromptBudget, TokenEstimator

__all__ = ["BuiltPrompt", "build_messages"]

NO_PLAYERS = "everyone"
"""What `{{user}}` means in a greeting posted before anyone spoke."""
GENERIC_PLAYER = "Player"
"""Who speaks the player side of example dialogue."""
PLAYERS_WORD = "the players"
"""What `{{user}}` means in the persona's text: never a name, so the text never changes."""
SHEET_FLOOR = 200
"""Tokens an active player's sheet keeps before sheets are dropped."""
HISTORY_SHARE = 4
"""When the fixed part overflows, the recent scene keeps at most 1/HISTORY_SHARE of the prompt."""
FLAT_SLACK = 32
"""Headings the flat system text adds ("Players:", "Scene:", the examples' heading)."""
_MAX_SQUEEZES = 64
_DEFAULT_BUDGET = PromptBudget()


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    """A ready `messages` array and what had to be left out to fit the budget.

    `dropped_history` counts the lines of the history given before the first one sent (the
    oldest are dropped in steps, see `pick_history`), `kept_history` the lines sent; OOC and
    blank lines make up the rest. `ends_on_own_turn` is true when the newest kept line is the
    persona's own: the caller should only ask for a turn after someone else spoke.
    `estimated_tokens` never exceeds `budget_tokens` (= the window minus the reply and the
    margin); `cuts` says what was shortened or left out for that, beyond old history.
    """

    messages: list[ChatMessage]
    dialect: Dialect
    estimated_tokens: int
    dropped_history: int
    dropped_examples: int
    kept_history: int
    ends_on_own_turn: bool = False
    raw_tokens: int = 0
    """Uncalibrated estimate of the whole request (what `TokenEstimator.calibrate` takes)."""
    budget_tokens: int = 0
    cuts: tuple[Cut, ...] = ()
    stable_messages: int = 0
    """How many leading messages stay byte-identical from turn to turn (system … samples)."""
    persona_name: str = ""
    speakers: tuple[str, ...] = ()
    """Every other name the request mentions (players, personas, labels): a reply line
    starting with one of them is the model writing someone else's turn."""


@dataclass(slots=True)
class _Sheet:
    user_id: int
    name: str
    text: str
    kept: bool = True


@dataclass(slots=True)
class _Fixed:
    """The fixed part of a request (everything but history and examples) while it is fitted."""

    estimator: TokenEstimator
    persona: PersonaText
    sheets: list[_Sheet]
    scene_title: str
    scene_setting: str
    summary: str
    pins: list[str]
    notes: list[tuple[str, str]]
    flat: bool
    cuts: list[Cut] = field(default_factory=list)
    _memo: dict[tuple[str, str | None], int] = field(default_factory=dict)

    def tokens(self, content: str, name: str | None = None) -> int:
        """`message_tokens`, remembered: the fit loop prices the same parts many times."""
        key = (content, name)
        cost = self._memo.get(key)
        if cost is None:
            cost = self._memo[key] = self.estimator.message_tokens(content, name)
        return cost

    def scene_line(self) -> str:
        """The `group` content: "title — setting"."""
        title = self.scene_title or "Scene"
        return f"{title} — {self.scene_setting}" if self.scene_setting else title

    def system_cost(self) -> int:
        """Tokens of the persona's system message."""
        return self.tokens(native_system_text(self.persona), self.persona.name)

    def sheet_cost(self, sheet: _Sheet) -> int:
        """Tokens of one player's `user_system` message."""
        return self.tokens(sheet.text, sheet.name) if sheet.kept else 0

    def memory(self) -> str:
        """The memory message's content ("" when there is neither summary nor pins)."""
        return memory_text(self.summary, self.pins)

    def notes_content(self) -> str:
        """The notes message's content ("" without notes)."""
        return notes_text(self.persona.name, self.notes) if self.notes else ""

    def cost(self) -> int:
        """Tokens of the whole fixed part, an upper bound for both dialects."""
        count = self.tokens
        total = self.system_cost() + count(self.scene_line())
        total += sum(self.sheet_cost(sheet) for sheet in self.sheets)
        if memory := self.memory():
            total += count(memory, MEMORY_SPEAKER)
        if notes := self.notes_content():
            total += count(notes, NOTES_SPEAKER)
        return total + (FLAT_SLACK if self.flat else 0)

    # ---- reductions, in the order they are applied ----------------------------------------

    def drop_sheets(self, need: int, sheets: Sequence[_Sheet]) -> int:
        """Drop whole sheets in the given order until `need` tokens are saved."""
        saved = 0
        for sheet in sheets:
            if saved >= need:
                break
            if not sheet.kept:
                continue
            cost = self.sheet_cost(sheet)
            sheet.kept = False
            saved += cost
            self.cuts.append(Cut("sheet of", sheet.name, "dropped", cost))
        return saved

    def shorten_sheets(self, need: int, sheets: Sequence[_Sheet], floor: int) -> int:
        """Shorten sheets in the given order, none below `floor` tokens."""
        saved = 0
        for sheet in sheets:
            if saved >= need or not sheet.kept:
                continue
            before = self.sheet_cost(sheet)
            size = self.estimator.count(sheet.text)
            target = max(floor, size - (need - saved))
            if target >= size:
                continue
            sheet.text = shorten(sheet.text, target, self.estimator) or "…"
            gain = before - self.sheet_cost(sheet)
            saved += gain
            self.cuts.append(Cut("sheet of", sheet.name, "shortened", gain))
        return saved

    def drop_notes(self, need: int) -> int:
        """Drop notes, the last given first."""
        saved = 0
        while self.notes and saved < need:
            before = self.cost()
            label, _ = self.notes.pop()
            gain = before - self.cost()
            saved += gain
            self.cuts.append(Cut("note", label, "dropped", gain))
        return saved

    def cut_memory(self, need: int) -> int:
        """Drop pins (the last first), then shorten the summary keeping its newest part."""
        saved = 0
        while self.pins and saved < need:
            before = self.cost()
            self.pins.pop()
            gain = before - self.cost()
            saved += gain
            self.cuts.append(Cut("pin", "", "dropped", gain))
        if saved < need and self.summary:
            before = self.cost()
            size = self.estimator.count(self.summary)
            self.summary = shorten(self.summary, size - (need - saved), self.estimator, keep="end")
            gain = before - self.cost()
            saved += gain
            self.cuts.append(Cut("summary", "", _action(self.summary), gain))
        return saved

    def shorten_persona(self, need: int, fields: Sequence[str]) -> int:
        """Shorten the card's fields (or the post-history instructions) in the given order."""
        saved = 0
        for name in fields:
            text = getattr(self.persona, name)
            if saved >= need or not text:
                continue
            before = self.cost()
            size = self.estimator.count(text)
            setattr(self.persona, name, shorten(text, size - (need - saved), self.estimator))
            gain = before - self.cost()
            saved += gain
            part = "post-history instructions" if name == "post_history" else "card"
            label = "" if name == "post_history" else name
            self.cuts.append(Cut(part, label, _action(getattr(self.persona, name)), gain))
        return saved

    def cut_scene(self, need: int) -> int:
        """Shorten the scene's setting, then its title."""
        saved = 0
        for name in ("scene_setting", "scene_title"):
            text = getattr(self, name)
            if saved >= need or not text:
                continue
            before = self.cost()
            size = self.estimator.count(text)
            floor = 0 if name == "scene_setting" else 2
            target = max(floor, size - (need - saved))
            setattr(self, name, shorten(text, target, self.estimator) or text[:1])
            gain = before - self.cost()
            saved += gain
            self.cuts.append(Cut("scene", name.removeprefix("scene_"), "shortened", gain))
        return saved


def build_messages(
    persona: Persona,
    *,
    players: Sequence[PlayerSheet],
    scene: Scene,
    history: Sequence[HistoryLine],
    summary: str | None = None,
    pins: Sequence[str] = (),
    cast: Sequence[Persona] = (),
    notes: Sequence[ContextNote] = (),
    rating: str = "",
    dialect: Dialect = "native",
    budget: PromptBudget = _DEFAULT_BUDGET,
    estimator: TokenEstimator | None = None,
    ooc: OocMode = "drop",
    keep_recent: int = 8,
    history_step: int = 32,
) -> BuiltPrompt:
    """Build the request `messages` for `persona`'s next turn (order: see the module doc).

    Args:
        persona: who speaks; its card becomes the system text.
        players: the players' sheets, one `user_system` each, in this order (pass them in
            order of first appearance so a newcomer never reshuffles the cached prefix).
        scene: the channel's scene (the single `group` message).
        history: channel history since the rolling summary, oldest first.
        summary: rolling summary of older events.
        pins: facts that always stay, listed with the summary.
        cast: the other personas in the scene (named so the persona leaves them alone).
        notes: per-turn context (lore, recall), most important first; the last message.
        rating: the channel's content rating sentence, closing the persona's rules.
        dialect: "native" M2-her roles, or "flat" system/user/assistant only.
        budget: context size, reply reservation, margin and optional history cap.
        estimator: token estimator (pass the shared, calibrated one).
        ooc: drop out-of-character lines, or "mark" them with "(OOC)".
        keep_recent: newest history lines that outrank the example dialogue.
        history_step: the history's first line moves on in steps of this many lines.

    Returns:
        The messages, whose estimate (with the reply and margin) never exceeds the window.
        Old history goes first (in steps), then example pairs (last first). If the fixed
        part is still too big, a quarter of the prompt is kept for the recent scene and,
        in order: sheets of players who did not speak in it, notes (last first), pins and
        the summary's oldest part, active players' sheets (shortened, then dropped; the
        newest speaker's last), then the recent history, the card's fields (scenario,
        personality, description, instructions), the newest speaker's sheet, the scene
        setting and the post-history instructions are cut. The newest line is never dropped;
        only if nothing else is left is it shortened.

    """
    estimator = estimator or TokenEstimator()
    name = sanitize_speaker_name(persona.name, fallback="Narrator")
    sheets = _unique_sheets(players)

    def clean(text: str, user: str = PLAYERS_WORD) -> str:
        resolved = resolve_macros(strip_invisible(text), char=name, user=user).strip()
        return _capitalized(resolved) if user == PLAYERS_WORD else resolved

    persona_text = PersonaText(
        name=name,
        description=clean(persona.description),
        personality=clean(persona.personality),
        scenario=clean(persona.scenario),
        instructions=clean(persona.system_prompt),
        cast=_cast_names(persona, cast),
        post_history=clean(persona.post_history_instructions),
        rating=rating,
    )
    pairs = [
        ExamplePair(clean(pair.user, GENERIC_PLAYER), clean(pair.ai, GENERIC_PLAYER))
        for pair in parse_example_dialogue(persona.example_dialogue, char_name=persona.name)
    ]
    fixed = _Fixed(
        estimator=estimator,
        persona=persona_text,
        sheets=[
            _Sheet(
                user_id=sheet.user_id,
                name=player,
                text=clean(sheet.description, player) or f"{player} is one of the players.",
            )
            for sheet in sheets
            for player in [sanitize_speaker_name(sheet.name, fallback="Player")]
        ],
        scene_title=" ".join(strip_invisible(scene.name).split()),
        scene_setting=clean(scene.setting),
        summary=clean(summary or ""),
        pins=[pin for pin in map(clean, pins) if pin],
        notes=[],
        flat=dialect == "flat",
    )
    for note in notes:
        label = sanitize_speaker_name(note.label, fallback="")
        text = clean(note.text)
        if not text:
            continue
        short = shorten(text, note.max_tokens, estimator)
        if short != text:
            fixed.cuts.append(
                Cut("note", label, "shortened", estimator.count(text) - estimator.count(short))
            )
        if short:
            fixed.notes.append((label, short))

    limit = budget.prompt_tokens
    cap = limit if budget.history_tokens is None else budget.history_tokens
    history = _fit_fixed(fixed, history, limit=limit, cap=cap, ooc=ooc, keep_recent=keep_recent)

    example_costs = [
        estimator.message_tokens(pair.user, GENERIC_PLAYER)
        + estimator.message_tokens(pair.ai, name)
        for pair in pairs
    ]
    pick = pick_history(
        history,
        persona_id=persona.id,
        persona_name=name,
        room=limit - fixed.cost(),
        cap=cap,
        example_costs=example_costs,
        keep_recent=keep_recent,
        estimator=estimator,
        ooc=ooc,
        step=history_step,
    )
    kept_pairs = pairs[: pick.kept_examples]
    head, tail = _render_fixed(fixed, kept_pairs, dialect)
    outside = [*head, *tail]
    fixed_tokens = sum(estimator.message_tokens(m["content"], m.get("name")) for m in outside)
    squeezed: list[Cut] = []
    dropped = 0
    while fixed_tokens + pick.tokens > limit and len(pick.lines) > 1:
        pick.lines.pop()  # the per-part costs are upper bounds; this is a safety net
        pick.tokens -= pick.costs.pop()
        pick.raw -= pick.raws.pop()
        dropped += 1
    if dropped:
        squeezed.append(Cut("history line", "", "dropped", 0, count=dropped))
    messages = [*head, *render_history(pick.lines, dialect=dialect), *tail]
    estimated = fixed_tokens + pick.tokens
    if estimated > limit:
        messages, more = _squeeze(messages, estimator, limit)
        squeezed += more
        estimated = sum(estimator.message_tokens(m["content"], m.get("name")) for m in messages)
    raw = sum(estimator.message_raw(m["content"], m.get("name")) for m in outside) + pick.raw
    stable = 1 if dialect == "flat" else len(head) - (1 if fixed.memory() else 0)
    speakers = {s.name for s in fixed.sheets} | set(persona_text.cast)
    speakers |= {speaker for role, speaker, _ in pick.lines if role == "user"}
    speakers |= {GENERIC_PLAYER, MEMORY_SPEAKER, NOTES_SPEAKER}
    speakers.discard(name)
    return BuiltPrompt(
        messages=messages,
        dialect=dialect,
        estimated_tokens=estimated,
        dropped_history=pick.dropped,
        dropped_examples=len(pairs) - len(kept_pairs),
        kept_history=len(pick.lines),
        ends_on_own_turn=bool(pick.lines) and pick.lines[0][0] == "assistant",
        raw_tokens=raw,
        budget_tokens=limit,
        cuts=(*fixed.cuts, *squeezed),
        stable_messages=stable,
        persona_name=name,
        speakers=tuple(sorted(speakers, key=lambda n: (n.casefold(), n))),
    )


def _fit_fixed(
    fixed: _Fixed,
    history: Sequence[HistoryLine],
    *,
    limit: int,
    cap: int,
    ooc: OocMode,
    keep_recent: int,
) -> Sequence[HistoryLine]:
    """Cut the fixed part in the documented order until it fits next to the recent scene
    (the newest `keep_recent` lines, at most 1/HISTORY_SHARE of the prompt).

    Returns the history to pick from: the same, or with its newest line shortened when
    nothing else was left to cut.
    """
    estimator = fixed.estimator
    newest = _newest(history, ooc)
    newest_cost = 0 if newest is None else _line_cost(estimator, history[newest])
    if fixed.cost() + newest_cost + limit // HISTORY_SHARE <= limit:
        return history  # the usual case: the fixed part is far from the window
    bound = min(limit // HISTORY_SHARE, cap)
    recent_cost, recent = _recent(history, ooc, estimator, bound, max(1, keep_recent))
    if fixed.cost() + recent_cost <= limit:
        return history
    reserve = max(0, recent_cost - newest_cost)
    newest_speaker = history[newest].user_id if newest is not None else None
    last_spoke = _last_spoke(history)
    by_silence = sorted(fixed.sheets, key=lambda s: last_spoke.get(s.user_id, -1))
    idle = [s for s in by_silence if s.user_id not in recent]
    active = [s for s in by_silence if s.user_id in recent and s.user_id != newest_speaker]
    last = [s for s in by_silence if s.user_id == newest_speaker]

    steps: list[Callable[[int], int]] = [
        lambda need: fixed.drop_sheets(need, idle),
        fixed.drop_notes,
        fixed.cut_memory,
        lambda need: fixed.shorten_sheets(need, [*active, *last], SHEET_FLOOR),
        lambda need: fixed.drop_sheets(need, active),
    ]
    target = limit - newest_cost - reserve
    for step in steps:
        over = fixed.cost() - target
        if over <= 0:
            return history
        step(over)
    target = limit - newest_cost  # the recent scene gives way to the persona's core
    for step in (
        lambda need: fixed.shorten_persona(need, ("scenario", "personality")),
        lambda need: fixed.shorten_persona(need, ("description", "instructions")),
        lambda need: fixed.shorten_sheets(need, last, 0),
        lambda need: fixed.drop_sheets(need, last),
        fixed.cut_scene,
        lambda need: fixed.shorten_persona(need, ("post_history",)),
    ):
        over = fixed.cost() - target
        if over <= 0:
            return history
        step(over)
    if newest is None:
        return history
    line = history[newest]
    room = limit - fixed.cost() - (newest_cost - estimator.count(line.text, line.tokens))
    text = shorten(line.text, max(0, room), estimator) or "…"
    if text == line.text:
        return history
    fixed.cuts.append(
        Cut("newest line", "", "shortened", newest_cost - _line_cost(estimator, line, text))
    )
    shortened = replace(line, text=text, tokens=0)
    return [*history[:newest], shortened, *history[newest + 1 :]]


def _render_fixed(
    fixed: _Fixed, pairs: Sequence[ExamplePair], dialect: Dialect
) -> tuple[list[ChatMessage], list[ChatMessage]]:
    """The messages before the history (setup, samples, memory) and after it (notes)."""
    name = fixed.persona.name
    sheets = [sheet for sheet in fixed.sheets if sheet.kept]
    memory = fixed.memory()
    notes = fixed.notes_content()
    if dialect == "native":
        head: list[ChatMessage] = [
            {"role": "system", "name": name, "content": native_system_text(fixed.persona)}
        ]
        head += [{"role": "user_system", "name": s.name, "content": s.text} for s in sheets]
        head.append({"role": "group", "content": fixed.scene_line()})
        for pair in pairs:
            head.append(
                {"role": "sample_message_user", "name": GENERIC_PLAYER, "content": pair.user}
            )
            head.append({"role": "sample_message_ai", "name": name, "content": pair.ai})
        if memory:
            head.append({"role": "user", "name": MEMORY_SPEAKER, "content": memory})
        tail: list[ChatMessage] = (
            [{"role": "user", "name": NOTES_SPEAKER, "content": notes}] if notes else []
        )
        return head, tail
    examples = [flat_example_lines(GENERIC_PLAYER, p.user, name, p.ai) for p in pairs]
    system = flat_system_text(
        fixed.persona,
        players=[(s.name, s.text) for s in sheets],
        scene=fixed.scene_line(),
        examples=examples,
    )
    head = [{"role": "system", "content": system}]
    if memory:
        head.append(flat_line("user", MEMORY_SPEAKER, memory))
    tail = [flat_line("user", NOTES_SPEAKER, notes)] if notes else []
    return head, tail


def _squeeze(
    messages: list[ChatMessage], estimator: TokenEstimator, limit: int
) -> tuple[list[ChatMessage], list[Cut]]:
    """The last resort when even the persona core and the newest line are over the limit:
    shorten the longest message until the request fits.
    """
    cuts: list[Cut] = []

    def total() -> int:
        return sum(estimator.message_tokens(m["content"], m.get("name")) for m in messages)

    over = total() - limit
    for _ in range(_MAX_SQUEEZES):
        if over <= 0:
            break
        longest = max(range(len(messages)), key=lambda i: len(messages[i]["content"]))
        content = messages[longest]["content"]
        size = estimator.count(content)
        short = shorten(content, max(0, size - over - 1), estimator) or "…"
        if short == content:
            break  # nothing left to shorten: trying again would change nothing
        messages[longest] = {**messages[longest], "content": short}
        saved = size - estimator.count(short)
        cuts.append(Cut("message", messages[longest]["role"], "shortened", saved))
        over = total() - limit
    return messages, cuts


def _action(text: str) -> Literal["dropped", "shortened"]:
    return "shortened" if text else "dropped"


def _line_cost(estimator: TokenEstimator, line: HistoryLine, text: str | None = None) -> int:
    """Tokens of one history line as its own message."""
    body = estimator.count(line.text, line.tokens) if text is None else estimator.count(text)
    return estimator.message_overhead + estimator.count(line.speaker) + 1 + body


def _newest(history: Sequence[HistoryLine], ooc: OocMode) -> int | None:
    """Index of the newest line the prompt will show, or None."""
    for index in range(len(history) - 1, -1, -1):
        line = history[index]
        if (ooc == "mark" or not line.ooc) and line.text.strip():
            return index
    return None


def _recent(
    history: Sequence[HistoryLine],
    ooc: OocMode,
    estimator: TokenEstimator,
    bound: int,
    lines: int,
) -> tuple[int, set[int]]:
    """Tokens of the newest `lines` lines (at most `bound`, the newest always), and the
    players who wrote them.
    """
    total = 0
    speakers: set[int] = set()
    taken = 0
    for index in range(len(history) - 1, -1, -1):
        line = history[index]
        if (line.ooc and ooc == "drop") or not line.text.strip():
            continue
        cost = _line_cost(estimator, line)
        if taken == lines or (total and total + cost > bound):
            break
        taken += 1
        total += cost
        if line.kind is AuthorKind.HUMAN and line.user_id is not None:
            speakers.add(line.user_id)
    return total, speakers


def _last_spoke(history: Sequence[HistoryLine]) -> dict[int, int]:
    """Index of each player's newest line."""
    last: dict[int, int] = {}
    for index, line in enumerate(history):
        if line.kind is AuthorKind.HUMAN and line.user_id is not None:
            last[line.user_id] = index
    return last


def _unique_sheets(players: Sequence[PlayerSheet]) -> list[PlayerSheet]:
    """One sheet per player (the last given), where that player first appears."""
    seen: dict[int, PlayerSheet] = {}
    for sheet in players:
        seen[sheet.user_id] = sheet
    return list(seen.values())


_SENTENCE_START = re.compile(r"(^|[.!?…]\s+|\n\s*)" + re.escape(PLAYERS_WORD))


def _capitalized(text: str) -> str:
    """`PLAYERS_WORD` capitalised where it opens a sentence."""
    if PLAYERS_WORD not in text:
        return text
    return _SENTENCE_START.sub(lambda m: m[1] + PLAYERS_WORD.capitalize(), text)


def _cast_names(persona: Persona, cast: Sequence[Persona]) -> tuple[str, ...]:
    names = {sanitize_speaker_name(other.name) for other in cast if other.id != persona.id}
    return tuple(sorted(names, key=lambda n: (n.casefold(), n)))
