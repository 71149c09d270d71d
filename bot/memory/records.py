"""Plain records the memory store takes and returns (stdlib only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.models import AuthorKind, ReplyStatus

ReplyMode = Literal["addressed", "auto"]
"""Answer only when a persona is addressed, or join in automatically after a lull."""

OocMode = Literal["drop", "mark"]
"""Out-of-character text is dropped from the prompt, or kept and marked."""

LorebookScope = Literal["guild", "scene"]
"""Whose lorebook: a guild's (owner id: the guild id) or a scene's (the channel id)."""


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """Roleplay settings of one channel; `save_channel` stores it whole."""

    channel_id: int
    guild_id: int
    enabled: bool = False
    cast: tuple[str, ...] = ()
    scene_name: str = ""
    scene_setting: str = ""
    reply_mode: ReplyMode = "addressed"
    lull_seconds: float | None = None
    generation: Mapping[str, float | int] = field(default_factory=dict, hash=False)
    """Overrides of `temperature`, `top_p` and `max_tokens` for this channel."""
    ooc_mode: OocMode | None = None
    """None means the bot-wide default."""
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Per-guild administration settings; defaults when the guild never saved any."""

    guild_id: int
    log_channel_id: int | None = None
    gm_role_id: int | None = None
    daily_budget_usd: float | None = None
    user_daily_budget_usd: float | None = None
    admin_notified: frozenset[str] = frozenset()
    """Keys of one-off admin alerts already sent (e.g. "auth", "quota")."""


@dataclass(frozen=True, slots=True)
class StoredPersona:
    """A guild's own persona card, kept exactly as saved."""

    guild_id: int
    persona_id: str
    card: dict[str, Any] = field(hash=False)
    updated_at: float


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message the bot saw in an enabled channel, before it is stored."""

    channel_id: int
    guild_id: int | None
    discord_id: int
    author_id: int | None
    author_name: str
    text: str
    kind: AuthorKind = AuthorKind.HUMAN
    persona_id: str | None = None
    reply_to_discord_id: int | None = None
    """The Discord message this one replies to; stored as a memory id if that one is known."""
    created_at: float | None = None
    """Unix time; None means now."""
    ooc: bool = False


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One stored line of channel history: a human message or a persona reply.

    For replies, `text` and `status` are those of the alternative (swipe) currently shown.
    """

    id: int
    channel_id: int
    guild_id: int | None
    discord_id: int | None
    author_id: int | None
    author_name: str
    kind: AuthorKind
    persona_id: str | None
    text: str
    reply_to: int | None
    """Memory id of the message this one answers."""
    created_at: float
    edited_at: float | None
    ooc: bool
    status: ReplyStatus
    swipe_index: int
    swipe_count: int
    discord_ids: tuple[int, ...]
    """Every Discord message the line spans, first one first (long replies span several)."""

    @property
    def edited(self) -> bool:
        """Whether the message was edited after it was stored."""
        return self.edited_at is not None


@dataclass(frozen=True, slots=True)
class Summary:
    """One version of a rolling summary of a channel (or of one persona's view of it)."""

    id: int
    channel_id: int
    persona_id: str | None
    text: str
    covers_until: int
    """Memory id of the newest message the summary covers."""
    created_at: float
    version: int
    author_id: int | None = None
    """The admin who wrote this version by hand; None when the model wrote it."""


@dataclass(frozen=True, slots=True)
class RecallHit:
    """A stored line or summary version that matched a recall query."""

    id: int
    """Memory id: of the message, or of the summary version when `kind` is "summary"."""
    kind: Literal["message", "summary"]
    author_name: str | None
    """Who said it; None for a summary."""
    text: str
    created_at: float
    score: float
    """How well it matched: higher is better; comparable only within one recall."""


@dataclass(frozen=True, slots=True)
class Pin:
    """A fact always kept in a channel's prompt."""

    id: int
    channel_id: int
    text: str
    author_id: int | None
    created_at: float


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Tokens and cost of one model request."""

    guild_id: int
    channel_id: int | None
    user_id: int | None
    persona_id: str | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = None
    """The provider's figure; None means priced from the M2-her list prices."""
    created_at: float | None = None
    """Unix time; None means now."""
    flags: str = ""
    """Content flags the provider raised, for information (e.g. "output_sensitive:2")."""


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Summed usage of a group of requests."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens the provider served from its cache (a share of `prompt_tokens`)."""
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class UsageReport:
    """A guild's usage since a point in time, in total and broken down."""

    guild_id: int
    since: float | None
    total: UsageTotals
    by_channel: dict[int | None, UsageTotals] = field(hash=False)
    by_user: dict[int | None, UsageTotals] = field(hash=False)
    """None collects requests with no user (forgotten users, background summaries)."""
    by_persona: dict[str | None, UsageTotals] = field(hash=False)
