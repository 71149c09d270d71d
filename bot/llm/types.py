"""Plain result types of the model client (stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Provider = Literal["openrouter", "minimax"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token accounting of one reply, as the provider reported it."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = None
    """OpenRouter's `usage.cost`; MiniMax does not report money."""

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

    @property
    def truncated(self) -> bool:
        """Whether the reply hit the output token cap."""
        return self.finish_reason == "length"


StreamItem = str | ChatResult
"""What `LLMClient.stream_chat` yields: text deltas, then one `ChatResult`."""
