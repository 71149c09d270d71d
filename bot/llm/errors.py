"""The typed errors of the model client (stdlib only).

LLMError
├── RetryableError               worth another attempt, but only before the first token
│   ├── RateLimitedError         HTTP 429/503, MiniMax 1002/1039/1041/2045
│   ├── TransientError           HTTP 5xx, refused connections, MiniMax 1000/1013/…, unknowns
│   ├── LLMTimeoutError          connect, idle (no bytes at all), total deadline; 408, 1001
│   └── StreamInterruptedError   the stream ended or broke without a finish reason
├── AuthError                    HTTP 401/403, MiniMax 1004/2049
├── QuotaExceededError           HTTP 402, MiniMax 1008/2056
├── ContentFilteredError
│   ├── InputFilteredError       HTTP 403 moderation, MiniMax 1026 / input_sensitive
│   └── OutputFilteredError      MiniMax 1027 / output_sensitive, finish_reason content_filter
└── BadRequestError              HTTP 400/404/413/422, MiniMax 2013
    ├── PromptTooLongError       a refusal that says the prompt exceeds the context window
    └── InvisibleCharactersError MiniMax 1042: too many invisible characters
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.llm.types import Usage

TimeoutPhase = Literal["connect", "idle", "total", "upstream"]
"""Where a timeout hit: ours (connect, idle, total) or the provider's own (HTTP 408, 1001)."""


class LLMError(Exception):
    """Base of every error the model client raises.

    Attributes:
        message: Safe, human-readable text (never contains the API key).
        provider: "openrouter" or "minimax".
        partial: Whether any text had already been yielded when the error happened.
        status: The HTTP status of the response, if there was one.
        code: The provider's own code (OpenRouter `error.code`, MiniMax `base_resp.status_code`).
        retry_after: Seconds the provider asked us to wait, if it said.
        request_id: OpenRouter generation id or MiniMax response id, if known.

    """

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        partial: bool = False,
        status: int | None = None,
        code: int | str | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.partial = partial
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.request_id = request_id
        self.usage: Usage | None = None
        """What the failed request cost, when known or estimated (a reply cut mid-stream)."""

    @property
    def retryable(self) -> bool:
        """Whether starting the request over is allowed: a retryable kind and no text shown."""
        return isinstance(self, RetryableError) and not self.partial

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, provider={self.provider!r}, "
            f"partial={self.partial}, status={self.status}, code={self.code!r}, "
            f"retry_after={self.retry_after})"
        )


class RetryableError(LLMError):
    """A failure that may go away if the same request is sent again."""


class RateLimitedError(RetryableError):
    """The provider asked us to slow down."""


class TransientError(RetryableError):
    """A server-side or network failure that is usually temporary."""


class LLMTimeoutError(RetryableError):
    """No connection, no bytes for too long, or the whole reply took too long."""

    def __init__(
        self,
        message: str,
        *,
        phase: TimeoutPhase = "upstream",
        provider: str = "",
        partial: bool = False,
        status: int | None = None,
        code: int | str | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            provider=provider,
            partial=partial,
            status=status,
            code=code,
            retry_after=retry_after,
            request_id=request_id,
        )
        self.phase: TimeoutPhase = phase


class StreamInterruptedError(RetryableError):
    """The stream ended or broke before the model said it was finished."""


class AuthError(LLMError):
    """The API key is missing, wrong, disabled, or for another region."""


class QuotaExceededError(LLMError):
    """The account is out of credits or over its plan quota."""


class ContentFilteredError(LLMError):
    """The provider's content filter blocked the request or the reply."""


class InputFilteredError(ContentFilteredError):
    """The prompt was blocked (MiniMax 1026, or flagged with no reply); sending it again
    will fail again.
    """


class OutputFilteredError(ContentFilteredError):
    """The model's reply was blocked: MiniMax 1027, or flagged with no text at all."""


class BadRequestError(LLMError):
    """The provider rejected the request itself (parameters, roles, size)."""


class PromptTooLongError(BadRequestError):
    """The provider said the request is longer than the model's context window."""


class InvisibleCharactersError(BadRequestError):
    """MiniMax 1042: the request holds too many invisible characters."""
