"""The persona's system text: card, house rules and post-history instructions, then (flat) the
player sheets, the scene and the example dialogue folded in, in the native message order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CARD_FIELDS",
    "EXAMPLES_HEADING",
    "MEMORY_SPEAKER",
    "PersonaText",
    "flat_example_lines",
    "flat_system_text",
    "memory_text",
    "native_system_text",
]

MEMORY_SPEAKER = "Story so far"
"""The name of the `user` message carrying the rolling summary and pinned facts."""
EXAMPLES_HEADING = "Example dialogue (shows the style only; it is not part of the story):"
CARD_FIELDS = ("description", "personality", "scenario", "instructions")
"""The card's trimmable fields; they are shortened last-first when the window is too small."""


@dataclass(slots=True)
class PersonaText:
    """Everything the persona's own system text is made of, cleaned and macro-resolved.

    Nothing here may change from turn to turn: it opens every request and is what the
    provider can serve from its cache.
    """

    name: str
    description: str
    personality: str
    scenario: str
    instructions: str
    cast: tuple[str, ...]
    post_history: str
    rating: str = ""
    """The channel's content rating, one sentence (stable per channel)."""


def _card(parts: PersonaText) -> list[str]:
    others = " and other characters" if parts.cast else ""
    sections = [f"You are {parts.name} in a group roleplay on Discord with human players{others}."]
    if parts.description:
        sections.append(parts.description)
    if parts.personality:
        sections.append(f"{parts.name}'s personality: {parts.personality}")
    if parts.scenario:
        sections.append(f"Scenario: {parts.scenario}")
    if parts.instructions:
        sections.append(parts.instructions)
    return sections


def _rules(parts: PersonaText, *, flat: bool) -> str:
    name = parts.name
    rules = [
        f"- Speak and act only as {name}. Never write dialogue, actions or thoughts for the "
        "human players or for any other character, and never start a line with someone's name."
    ]
    if parts.cast:
        rules.append(f"- Other characters here, played by others: {', '.join(parts.cast)}.")
    if flat:
        rules.append(
            f'- Chat messages are shown as "Name: text". Write only {name}\'s next message, '
            "without a name prefix."
        )
    else:
        rules.append(f"- Write only {name}'s next message, without a name prefix.")
    rules.append(
        f'- Messages from "{MEMORY_SPEAKER}" and "Scene notes" are out-of-character '
        "background for you, not lines spoken in the scene."
    )
    if parts.rating:
        rules.append(f"- {parts.rating}")
    rules.append("- Use Discord markdown: *italics* for actions, **bold** for emphasis.")
    rules.append("- Keep replies to a few short paragraphs.")
    return "Rules:\n" + "\n".join(rules)


def _persona_sections(parts: PersonaText, *, flat: bool) -> list[str]:
    sections = [*_card(parts), _rules(parts, flat=flat)]
    if parts.post_history:
        sections.append(parts.post_history)
    return sections


def native_system_text(parts: PersonaText) -> str:
    """The `system` message of the native dialect: card, rules, post-history instructions.

    The card's post-history instructions close it: the end of the first `system` message is
    a documented place (m2her-api.md §1, §5.2 step 1) that stays byte-identical between
    turns, so it is cached, where a second `system` message after the history is not.
    """
    return "\n\n".join(_persona_sections(parts, flat=False))


def flat_example_lines(user_name: str, user_text: str, char_name: str, ai_text: str) -> str:
    """One example exchange as it appears in the flattened system text."""
    return f"{user_name}: {user_text}\n{char_name}: {ai_text}"


def flat_system_text(
    parts: PersonaText,
    *,
    players: Sequence[tuple[str, str]],
    scene: str,
    examples: Sequence[str],
) -> str:
    """The only `system` message of the flat dialect, in the native order: the persona's
    text (card, rules, post-history instructions), then the players, the scene and the
    example dialogue that the native dialect sends as their own messages.
    """
    sections = _persona_sections(parts, flat=True)
    if players:
        lines = [f"- {name}: {about}" if about else f"- {name}" for name, about in players]
        sections.append("Players:\n" + "\n".join(lines))
    sections.append(f"Scene: {scene}")
    if examples:
        sections.append(EXAMPLES_HEADING + "\n" + "\n\n".join(examples))
    return "\n\n".join(sections)


def memory_text(summary: str, pins: Sequence[str]) -> str:
    """The content of the memory message: rolling summary and pinned facts, or "" if none."""
    sections = []
    if summary:
        sections.append(summary)
    if pins:
        sections.append("Pinned facts:\n" + "\n".join(f"- {pin}" for pin in pins))
    if not sections:
        return ""
    header = "(Out of character: what happened earlier in this scene, for reference.)"
    return "\n\n".join([header, *sections])
