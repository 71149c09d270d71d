"""Plain types of the engine: its configuration and a prepared turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.llm import SamplingParams
from bot.lore import Activation
from bot.memory import RecallHit
from bot.models import HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import BuiltPrompt, ContextNote


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """The engine's knobs, mapped from Settings by the wiring."""

    context_tokens: int = 65536
    history_tokens: int = 24000
    reply_tokens: int = 600
    temperature: float = 1.0
    top_p: float = 0.95
    ooc_mode: str = "drop"
    window_rows: int = 4000
    shared_store: bool = False
    """Several processes share the memory: turns take a database lease, caches are checked."""
    lull_seconds: float = 3.0
    """In auto mode, seconds of quiet before a persona joins in (a channel may override)."""
    proxy_wait_seconds: float = 1.5
    """Wait this long after a message in channels where proxies (PluralKit) post."""
    user_cooldown_seconds: float = 2.0
    """A player writing faster than this is answered once they pause (lines are merged)."""
    persona_turn_budget: int = 1
    """Persona-to-persona replies allowed after one human line."""
    backfill_limit: int = 200
    """At most this many missed messages per channel are read back after a restart."""
    lore_tokens: int = 800
    """Tokens the lore that fires in a turn may use (all lorebooks together)."""
    recall_tokens: int = 600
    """Tokens the recalled older passages of a turn may use."""
    recall_passages: int = 3
    """At most this many older passages are recalled per turn (0: no recall)."""


@dataclass(frozen=True, slots=True)
class TurnContext:
    """What a turn adds after the history, and why (for /debug prompt)."""

    notes: tuple[ContextNote, ...] = ()
    lore: Activation = field(default_factory=Activation)
    recalled: tuple[RecallHit, ...] = ()
    recall_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PromptInputs:
    """What a prompt is built from, kept so it can be rebuilt in the other dialect."""

    players: tuple[PlayerSheet, ...]
    scene: Scene
    summary: str | None
    pins: tuple[str, ...]
    cast: tuple[Persona, ...]
    history: tuple[HistoryLine, ...]
    ooc: Literal["drop", "mark"] = "drop"
    """Out-of-character lines: left out, or kept and marked."""
    notes: tuple[ContextNote, ...] = ()
    """Per-turn context (lore, recall) for the request's final "Scene notes" message."""
    rating: str = ""
    """The channel's content rating sentence for the persona's rules."""


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """Everything needed to ask the model for one persona reply."""

    channel_id: int
    guild_id: int | None
    persona: Persona
    prompt: BuiltPrompt
    params: SamplingParams
    reply_to: int | None
    user_id: int | None
    inputs: PromptInputs
    context: TurnContext = field(default_factory=TurnContext)
    """What the turn added after the history (fired lore, recalled passages) and why."""
