"""Per-turn context notes: what the persona should know for this turn only (lore, recall)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOTES_SPEAKER", "ContextNote", "notes_text"]

NOTES_SPEAKER = "Scene notes"
"""The name of the final `user` message that carries the notes."""


@dataclass(frozen=True, slots=True)
class ContextNote:
    """One block of per-turn context, e.g. a lorebook entry or a recalled memory.

    Notes go into the last message of the request, after the history, so they never disturb
    the cached prefix. Each is shortened to its own `max_tokens`; when the window is too
    small for all of them, the last notes given are dropped first (give them in priority
    order, most important first).
    """

    label: str
    text: str
    max_tokens: int = 1000

    def __post_init__(self) -> None:
        if self.max_tokens < 0:
            raise ValueError("max_tokens must not be negative")


def notes_text(persona: str, notes: list[tuple[str, str]]) -> str:
    """The content of the notes message: an out-of-character header, then each note."""
    header = (
        f"(Out of character: notes for {persona} about this moment of the scene. Use them "
        "when they matter; never quote them and never answer this message as if someone "
        "had said it.)"
    )
    blocks = [f"[{label}] {text}" if label else text for label, text in notes]
    return "\n\n".join([header, *blocks])
