"""Plain data types shared by the core layers (stdlib only, no discord, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

Dialect = Literal["native", "flat"]
"""How a request is rendered: M2-her's roleplay roles, or plain system/user/assistant."""


class ChatMessage(TypedDict):
    """One entry of the `messages` array sent to the model."""

    role: str
    content: str
    name: NotRequired[str]


class AuthorKind(StrEnum):
    """Who wrote a line of channel history."""

    HUMAN = "human"
    PERSONA = "persona"


class ReplyStatus(StrEnum):
    """Lifecycle of a stored persona reply."""

    STREAMING = "streaming"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    """Nothing usable came back (an empty completion, or an error before any text)."""


@dataclass(frozen=True, slots=True)
class Persona:
    """A character the bot can voice, as loaded from a card.

    `card` keeps the whole source card (Character Card V2 `data` shape, JSON-compatible) so
    fields we do not use yet survive a round trip.
    """

    id: str
    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_message: str = ""
    example_dialogue: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: tuple[str, ...] = ()
    avatar_url: str | None = None
    talkativeness: float = 0.5
    call_words: tuple[str, ...] = ()
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    card: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class PlayerSheet:
    """A player's character sheet; becomes one `user_system` message."""

    user_id: int
    name: str
    description: str = ""
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class Scene:
    """The scene a channel plays in; becomes the single `group` message."""

    name: str
    setting: str = ""


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One line of channel history as the prompt builder sees it."""

    speaker: str
    text: str
    kind: AuthorKind
    persona_id: str | None = None
    user_id: int | None = None
    ooc: bool = False
    tokens: int = 0
    """Raw (uncalibrated) token estimate of `text`; 0 means not computed yet."""
