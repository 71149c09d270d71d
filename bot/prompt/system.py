"""The system text: persona card, house rules, story so far, and (flat) the folded roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["SystemParts", "flat_example_lines", "flat_system_text", "native_system_text"]


@dataclass(frozen=True, slots=True)
class SystemParts:
    """Everything the system text is made of, already cleaned and macro-resolved."""

    name: str
    description: str
    personality: str
    scenario: str
    instructions: str
    cast: tuple[str, ...]
    summary: str
    pins: tuple[str, ...]


def _card(parts: SystemParts) -> list[str]:
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


def _rules(parts: SystemParts, *, flat: bool) -> str:
    name = parts.name
    rules = [
        f"- Speak and act only as {name}. Never write dialogue, actions or thoughts for the "
        "human players or for any other character."
    ]
    if parts.cast:
        rules.append(f"- Other characters here, played by others: {', '.join(parts.cast)}.")
    if flat:
        rules.append(
            f'- Chat messages are shown as "Name: text". Write only {name}\'s next message, '
            "without a name prefix."
        )
    else:
        rules.append(f"- Write only {name}'s next message.")
    rules.append("- Use Discord markdown: *italics* for actions, **bold** for emphasis.")
    rules.append("- Keep replies to a few short paragraphs.")
    return "Rules:\n" + "\n".join(rules)


def _story(parts: SystemParts) -> list[str]:
    sections = []
    if parts.summary:
        sections.append(f"Story so far:\n{parts.summary}")
    if parts.pins:
        sections.append("Pinned facts:\n" + "\n".join(f"- {pin}" for pin in parts.pins))
    return sections


def native_system_text(parts: SystemParts) -> str:
    """System text for M2-her's own roles: card, rules, summary and pins."""
    return "\n\n".join([*_card(parts), _rules(parts, flat=False), *_story(parts)])


EXAMPLES_HEADING = "Example dialogue (shows the style only; it is not part of the story):"


def flat_example_lines(user_name: str, user_text: str, char_name: str, ai_text: str) -> str:
    """One example exchange as it appears in the flattened system text."""
    return f"{user_name}: {user_text}\n{char_name}: {ai_text}"


def flat_system_text(
    parts: SystemParts,
    *,
    players: Sequence[tuple[str, str]],
    scene: str,
    examples: Sequence[str],
    post_history: str,
) -> str:
    """System text for plain system/user/assistant endpoints, with everything folded in.

    Post-history instructions go last: some OpenAI-compatible endpoints reject or ignore a
    second system message after the conversation, and the end of the system text is the
    closest stable spot that keeps the prefix cacheable.
    """
    sections = _card(parts)
    if players:
        lines = [f"- {name}: {about}" if about else f"- {name}" for name, about in players]
        sections.append("Players:\n" + "\n".join(lines))
    sections.append(f"Scene: {scene}")
    if examples:
        sections.append(EXAMPLES_HEADING + "\n" + "\n\n".join(examples))
    sections += [_rules(parts, flat=True), *_story(parts)]
    if post_history:
        sections.append(post_history)
    return "\n\n".join(sections)
