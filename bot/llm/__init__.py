"""The M2-her model client: streaming, typed errors, retries and dialect fallback."""

from bot.llm.client import LLMClient
from bot.llm.dialect import DialectPolicy, DialectSetting, is_role_rejection
from bot.llm.errors import (
    AuthError,
    BadRequestError,
    ContentFilteredError,
    InputFilteredError,
    LLMError,
    LLMTimeoutError,
    OutputFilteredError,
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
from bot.llm.types import ChatResult, Provider, StreamItem, Usage

__all__ = [
    "DEFAULT_BASE_URLS",
    "DEFAULT_MODELS",
    "MAX_OUTPUT_TOKENS",
    "AuthError",
    "BadRequestError",
    "ChatResult",
    "ContentFilteredError",
    "DialectPolicy",
    "DialectSetting",
    "InputFilteredError",
    "LLMClient",
    "LLMError",
    "LLMTimeoutError",
    "OutputFilteredError",
    "Provider",
    "QuotaExceededError",
    "RateLimitedError",
    "RetryableError",
    "SamplingParams",
    "StreamInterruptedError",
    "StreamItem",
    "TimeoutPhase",
    "TransientError",
    "Usage",
    "clamp_max_tokens",
    "clamp_temperature",
    "clamp_top_p",
    "is_role_rejection",
]
