"""Plain result types of the model client (stdlib and `bot.models` only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.models import Dialect

Provider = Literal["openrouter", "minimax"]

SENSITIVE_TYPES = {
    0: "unspecified",
    1: "severe violation",
    2: "pornography",
    3: "advertising",
    4: "prohibited content",
    5: "abuse",
    6: "violence or terror",
    7: "other",
}
"""MiniMax's `input_sensitive_type` / `output_sensitive_type` values (m2her-api.md §2.3)."""


@dataclass(frozen=True, slots=True)
class ContentFlags:
    """The provider's content-filter flags on a request that still produced text.

    A flag is information, not an error: the text is delivered and the flag recorded. Only
    MiniMax 1026/1027, or a flag with no text at all, means the reply was blocked.
    `None` means not flagged; 0 means flagged without a type (OpenRouter's `content_filter`).
    """

    input_type: int | None = None
    output_type: int | None = None

    def __bool__(self) -> bool:
        return self.input_type is not None or self.output_type is not None

    def merge(self, other: ContentFlags) -> ContentFlags:
        """These flags with `other`'s added."""
        return ContentFlags(
            other.input_type if other.input_type is not None else self.input_type,
            other.output_type if other.output_type is not None else self.output_type,
        )

    def ledger(self) -> str:
        """The compact form kept in the usage ledger, e.g. "output_sensitive:5" ("" if none)."""
        parts = []
        if self.input_type is not None:
            parts.append(f"input_sensitive:{self.input_type}")
        if self.output_type is not None:
            parts.append(f"output_sensitive:{self.output_type}")
        return ",".join(parts)

    def describe(self) -> str:
        """What the flags mean, for the log."""
        parts = []
        if self.input_type is not None:
            parts.append(f"the prompt as {_meaning(self.input_type)}")
        if self.output_type is not None:
            parts.append(f"the reply as {_meaning(self.output_type)}")
        return "flagged " + " and ".join(parts) if parts else "not flagged"


def _meaning(kind: int) -> str:
    return f"{SENSITIVE_TYPES.get(kind, 'an unknown kind')} (type {kind})"


@dataclass(frozen=True, slots=True)
class Usage:
    """Token accounting of one reply, as the provider reported it."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = None
    """OpenRouter's `usage.cost`; MiniMax does not report money."""
    estimated: bool = False
    """Our estimate, not the provider's count (a reply cut before the provider reported)."""
    cached_reported: bool = False
    """Whether the provider said how many prompt tokens came from its cache."""

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The last item of a stream: how and why the reply ended."""

    finish_reason: str
    """Why it ended: "stop" naturally, "length" when the token cap cut the reply."""
    usage: Usage | None
    request_id: str | None
    """OpenRouter `X-Generation-Id` or MiniMax response id, for logs and cost lookups."""
    text: str
    """Every delta joined, exactly as yielded."""
    attempts: int = 1
    """Requests sent, counting retries before the first token."""
    flags: ContentFlags = ContentFlags()
    """Content-filter flags on a reply that was delivered anyway."""
    dialect: Dialect | None = None
    """The dialect the reply was finally produced in (set by `stream_turn`)."""
    recoveries: tuple[str, ...] = ()
    """What `stream_turn` did to get this reply (flat fallback, shrink, regenerate, …)."""
    prompt_estimate: int = 0
    """Our calibrated estimate of the prompt that produced this reply (0: unknown)."""
    prompt_raw: int = 0
    """Our raw estimate of that prompt, for calibrating against `usage.prompt_tokens`."""

    @property
    def truncated(self) -> bool:
        """Whether the reply hit the output token cap."""
        return self.finish_reason == "length"


StreamItem = str | ChatResult
"""What `LLMClient.stream_chat` yields: text deltas, then one `ChatResult`."""
