"""Assemble the `messages` for one persona turn within the token budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.models import ChatMessage, Dialect, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt.examples import ExamplePair, parse_example_dialogue, resolve_macros
from bot.prompt.history import OocMode, pick_history, render_history
from bot.prompt.system import (
    EXAMPLES_HEADING,
    SystemParts,
    flat_example_lines,
    flat_system_text,
    native_system_text,
)
from bot.text import sanitize_speaker_name, strip_invisible
from bot.tokens import PromptBudget, TokenEstimator

__all__ = ["BuiltPrompt", "build_messages"]

GENERIC_PLAYER = "Player"
"""Who speaks the player side of example dialogue when the scene has several players."""
NO_PLAYERS = "everyone"
"""What `{{user}}` means when nobody has a player sheet yet."""
_DEFAULT_BUDGET = PromptBudget()


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    """A ready `messages` array and what had to be left out to fit the budget.

    `dropped_history` counts the oldest history lines cut for the budget, `kept_history`
    the lines in the prompt; lines skipped as OOC or blank make up the rest.
    `ends_on_own_turn` is true when the newest kept line is the persona's own: nothing is
    appended in that case, the caller should only ask for a turn after someone else spoke.
    """

    messages: list[ChatMessage]
    dialect: Dialect
    estimated_tokens: int
    dropped_history: int
    dropped_examples: int
    kept_history: int
    ends_on_own_turn: bool = False


def build_messages(
    persona: Persona,
    *,
    players: Sequence[PlayerSheet],
    scene: Scene,
    history: Sequence[HistoryLine],
    summary: str | None = None,
    pins: Sequence[str] = (),
    cast: Sequence[Persona] = (),
    dialect: Dialect = "native",
    budget: PromptBudget = _DEFAULT_BUDGET,
    estimator: TokenEstimator | None = None,
    ooc: OocMode = "drop",
    keep_recent: int = 8,
) -> BuiltPrompt:
    """Build the request `messages` for `persona`'s next turn.

    Post-history instructions become a final `system` message in the native dialect (the
    card format means them to sit after the history, where they steer the next reply most)
    and close the system text in the flat one.

    Args:
        persona: who speaks; its card becomes the system text.
        players: the active players' sheets (one `user_system` each, sorted by name).
        scene: the channel's scene (the single `group` message).
        history: channel history, oldest first; only the tail that fits is read.
        summary: running summary of older events, kept in the system text.
        pins: facts that always stay, listed with the summary.
        cast: the other personas in the scene (named so the persona leaves them alone).
        dialect: "native" M2-her roles, or "flat" system/user/assistant only.
        budget: context size, reply reservation, margin and optional history cap.
        estimator: token estimator (pass the shared, calibrated one).
        ooc: drop out-of-character lines, or "mark" them with "(OOC)".
        keep_recent: newest history lines that outrank the example dialogue.

    Returns:
        The messages plus the estimate and what was dropped. Over budget, the oldest
        history goes first, then example pairs (last first), then recent history; the
        card, players, scene, summary and pins always stay, and so does the newest line.

    """
    estimator = estimator or TokenEstimator()
    name = sanitize_speaker_name(persona.name, fallback="Narrator")
    sheets = _sorted_players(players)
    player_names = [sanitize_speaker_name(sheet.name, fallback="Player") for sheet in sheets]
    everyone = _join_names(player_names) or NO_PLAYERS
    example_user = player_names[0] if len(player_names) == 1 else GENERIC_PLAYER

    def clean(text: str, user: str = everyone) -> str:
        return resolve_macros(strip_invisible(text), char=name, user=user).strip()

    parts = SystemParts(
        name=name,
        description=clean(persona.description),
        personality=clean(persona.personality),
        scenario=clean(persona.scenario),
        instructions=clean(persona.system_prompt),
        cast=_cast_names(persona, cast),
        summary=clean(summary or ""),
        pins=tuple(pin for pin in map(clean, pins) if pin),
    )
    post_history = clean(persona.post_history_instructions)
    pairs = [
        ExamplePair(clean(pair.user, example_user), clean(pair.ai, example_user))
        for pair in parse_example_dialogue(persona.example_dialogue, char_name=persona.name)
    ]
    scene_line = _scene_line(scene, clean)
    player_lines = [
        (player, clean(sheet.description, player))
        for player, sheet in zip(player_names, sheets, strict=True)
    ]

    example_texts = [flat_example_lines(example_user, p.user, name, p.ai) for p in pairs]
    if dialect == "native":
        prefix = _native_prefix(name, native_system_text(parts), player_lines, scene_line)
        suffix: list[ChatMessage] = (
            [{"role": "system", "name": name, "content": post_history}] if post_history else []
        )
        fixed = sum(_message_raw(estimator, message) for message in [*prefix, *suffix])
        example_costs = [
            estimator.message_raw(pair.user, example_user) + estimator.message_raw(pair.ai, name)
            for pair in pairs
        ]
    else:
        bare_text = flat_system_text(
            parts, players=player_lines, scene=scene_line, examples=(), post_history=post_history
        )
        fixed = estimator.message_raw(bare_text)
        example_costs = [estimator.estimate_raw(text) + 1 for text in example_texts]
        if example_costs:
            example_costs[0] += estimator.estimate_raw(EXAMPLES_HEADING) + 1

    room = estimator.unscale(budget.prompt_tokens) - fixed
    cap = room if budget.history_tokens is None else estimator.unscale(budget.history_tokens)
    pick = pick_history(
        history,
        persona_id=persona.id,
        persona_name=name,
        room=room,
        cap=cap,
        example_costs=example_costs,
        keep_recent=keep_recent,
        estimator=estimator,
        ooc=ooc,
    )
    kept = pick.kept_examples
    if dialect == "native":
        head = list(prefix)
        for pair in pairs[:kept]:
            head.append({"role": "sample_message_user", "name": example_user, "content": pair.user})
            head.append({"role": "sample_message_ai", "name": name, "content": pair.ai})
    else:
        text = flat_system_text(
            parts,
            players=player_lines,
            scene=scene_line,
            examples=example_texts[:kept],
            post_history=post_history,
        )
        head, suffix = [{"role": "system", "content": text}], []
    messages = [*head, *render_history(pick.lines, dialect=dialect), *suffix]
    return BuiltPrompt(
        messages=messages,
        dialect=dialect,
        estimated_tokens=estimator.scale(fixed + sum(example_costs[:kept]) + pick.raw_tokens),
        dropped_history=pick.dropped,
        dropped_examples=len(pairs) - kept,
        kept_history=len(pick.lines),
        ends_on_own_turn=bool(pick.lines) and pick.lines[0][0] == "assistant",
    )


def _native_prefix(
    name: str, system_text: str, player_lines: Sequence[tuple[str, str]], scene_line: str
) -> list[ChatMessage]:
    """`system`, one `user_system` per player, then the single `group` message."""
    messages: list[ChatMessage] = [{"role": "system", "name": name, "content": system_text}]
    for player, about in player_lines:
        content = about or f"{player} is one of the players."
        messages.append({"role": "user_system", "name": player, "content": content})
    messages.append({"role": "group", "content": scene_line})
    return messages


def _message_raw(estimator: TokenEstimator, message: ChatMessage) -> int:
    return estimator.message_raw(message["content"], message.get("name"))


def _sorted_players(players: Sequence[PlayerSheet]) -> list[PlayerSheet]:
    """One sheet per player, in a stable order so the cached prefix does not change."""
    unique = {sheet.user_id: sheet for sheet in players}
    return sorted(unique.values(), key=lambda s: (s.name.casefold(), s.name, s.user_id))


def _cast_names(persona: Persona, cast: Sequence[Persona]) -> tuple[str, ...]:
    names = {sanitize_speaker_name(other.name) for other in cast if other.id != persona.id}
    return tuple(sorted(names, key=lambda n: (n.casefold(), n)))


def _join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _scene_line(scene: Scene, clean: Callable[[str], str]) -> str:
    title = " ".join(strip_invisible(scene.name).split()) or "Untitled scene"
    setting = clean(scene.setting)
    return f"{title} — {setting}" if setting else title
