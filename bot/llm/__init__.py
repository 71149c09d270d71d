"""The M2-her model client: streaming, typed errors, retries and dialect fallback."""

from bot.llm.client import LLMClient
from bot.llm.dialect import (
    DialectPolicy,
    DialectSetting,
    DialectState,
    TurnPlan,
    failure_kind,
    is_role_rejection,
)
from bot.llm.errors import (
    AuthError,
    BadRequestError,
    ContentFilteredError,
    InputFilteredError,
    InvisibleCharactersError,
    LLMError,
    LLMTimeoutError,
    OutputFilteredError,
    PromptTooLongError,
    QuotaExceededError,
    RateLimitedError,
    RetryableError,
    StreamInterruptedError,
    TimeoutPhase,
    TransientError,
)
from bot.llm.providers import DEFAULT_BASE_URLS, DEFAULT_MODELS
from bot.llm.sampling import (
    MAX_OUTPUT_TOKENS,
    SamplingParams,
    clamp_max_tokens,
    clamp_temperature,
    clamp_top_p,
)
from bot.llm.state import MemoryStateStore, StateStore, as_state_store
from bot.llm.turn import Render, TurnRequest, stream_turn, strip_messages
from bot.llm.types import ChatResult, ContentFlags, Provider, StreamItem, Usage

__all__ = [
    "DEFAULT_BASE_URLS",
    "DEFAULT_MODELS",
    "MAX_OUTPUT_TOKENS",
    "AuthError",
    "BadRequestError",
    "ChatResult",
    "ContentFilteredError",
    "ContentFlags",
    "DialectPolicy",
    "DialectSetting",
    "DialectState",
    "InputFilteredError",
    "InvisibleCharactersError",
    "LLMClient",
    "LLMError",
    "LLMTimeoutError",
    "MemoryStateStore",
    "OutputFilteredError",
    "PromptTooLongError",
    "Provider",
    "QuotaExceededError",
    "RateLimitedError",
    "Render",
    "RetryableError",
    "SamplingParams",
    "StateStore",
    "StreamInterruptedError",
    "StreamItem",
    "TimeoutPhase",
    "TransientError",
    "TurnPlan",
    "TurnRequest",
    "Usage",
    "as_state_store",
    "clamp_max_tokens",
    "clamp_temperature",
    "clamp_top_p",
    "failure_kind",
    "is_role_rejection",
    "stream_turn",
    "strip_messages",
]
