"""Which error a provider's HTTP status, error code or JSON payload stands for."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.llm.errors import (
    AuthError,
    BadRequestError,
    InputFilteredError,
    InvisibleCharactersError,
    LLMError,
    LLMTimeoutError,
    OutputFilteredError,
    PromptTooLongError,
    QuotaExceededError,
    RateLimitedError,
    TransientError,
)

PROVIDER_LABELS = {"openrouter": "OpenRouter", "minimax": "MiniMax"}

MINIMAX_CODES: Mapping[int, type[LLMError]] = {
    1000: TransientError,
    1001: LLMTimeoutError,
    1002: RateLimitedError,
    1004: AuthError,
    1008: QuotaExceededError,
    1013: TransientError,
    1024: TransientError,
    1026: InputFilteredError,
    1027: OutputFilteredError,
    1033: TransientError,
    1039: RateLimitedError,
    1041: RateLimitedError,
    1042: InvisibleCharactersError,
    2013: BadRequestError,
    2045: RateLimitedError,
    2049: AuthError,
    2056: QuotaExceededError,
}
"""MiniMax `base_resp.status_code` values (m2her-api.md §2.5); unknown codes are transient."""

_NAMED_CODES: Mapping[str, type[LLMError]] = {
    "rate_limit": RateLimitedError,
    "rate_limited": RateLimitedError,
    "rate_limit_exceeded": RateLimitedError,
    "too_many_requests": RateLimitedError,
    "timeout": LLMTimeoutError,
    "request_timeout": LLMTimeoutError,
    "unauthorized": AuthError,
    "invalid_api_key": AuthError,
    "authentication_error": AuthError,
    "insufficient_credits": QuotaExceededError,
    "insufficient_quota": QuotaExceededError,
    "content_filter": OutputFilteredError,
    "moderation": OutputFilteredError,
    "bad_request": BadRequestError,
    "invalid_request_error": BadRequestError,
}
"""String codes seen in OpenAI-style `error` objects; anything else is transient."""

Redact = Callable[[str], str]

_TOO_LONG = re.compile(
    r"context[ _-]?(length|window|size)|maximum context|too many tokens|prompt is too long"
    r"|(input|prompt|request)[^.]{0,40}too long|exceeds?[^.]{0,40}(context|token)"
    r"|token limit|max(imum)?[ _-]?tokens?[^.]{0,20}exceed",
    re.IGNORECASE,
)
"""What refusals of an over-long prompt say (OpenAI-style, OpenRouter, MiniMax)."""


def says_too_long(detail: str) -> bool:
    """Whether an error message says the prompt does not fit the context window."""
    return _TOO_LONG.search(detail) is not None


def class_for_status(status: int, *, moderation: bool = False) -> type[LLMError]:
    """The error class of an HTTP error status (OpenRouter's table, used for both providers)."""
    if status == 401:
        return AuthError
    if status == 402:
        return QuotaExceededError
    if status == 403:
        return InputFilteredError if moderation else AuthError
    if status == 408:
        return LLMTimeoutError
    if status in (429, 503):
        return RateLimitedError
    if status == 413:
        return PromptTooLongError
    if 400 <= status < 500:
        return BadRequestError
    return TransientError


def class_for_code(code: object) -> type[LLMError]:
    """The error class of an `error.code` that may be an HTTP-like number or a name."""
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool):
        if code in MINIMAX_CODES:
            return MINIMAX_CODES[code]
        return class_for_status(code) if 400 <= code < 600 else TransientError
    if isinstance(code, str):
        return _NAMED_CODES.get(code.lower(), TransientError)
    return TransientError


def retry_hint(payload: Mapping[str, Any]) -> float | None:
    """A wait in seconds suggested inside an error body (`error.retry_after` or its metadata)."""
    error = payload.get("error")
    if not isinstance(error, dict):
        return None
    metadata = error.get("metadata")
    for source in (error, metadata if isinstance(metadata, dict) else {}):
        value = source.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    provider: str,
    redact: Redact,
    partial: bool = False,
    status: int | None = None,
    retry_after: float | None = None,
    request_id: str | None = None,
) -> LLMError | None:
    """The error a JSON body or chunk reports, or None if it reports none.

    Understands OpenRouter's `error` object and MiniMax's `base_resp`, in both error
    bodies and stream chunks. MiniMax's `input_sensitive`/`output_sensitive` flags are not
    errors (m2her-api.md §5.3): a blocked request comes as 1026/1027; see `ContentFlags`.
    """
    cls: type[LLMError]
    code: int | str | None
    base_resp = payload.get("base_resp")
    error = payload.get("error")
    if isinstance(base_resp, dict) and base_resp.get("status_code") not in (0, None):
        code = base_resp.get("status_code")
        cls = class_for_code(code)
        detail = str(base_resp.get("status_msg") or "")
    elif isinstance(error, dict):
        code = error.get("code", error.get("type"))
        metadata = error.get("metadata")
        moderation = isinstance(metadata, dict) and (
            "reasons" in metadata or "flagged_input" in metadata
        )
        if status is not None and status >= 400:
            cls = class_for_status(status, moderation=moderation)
        else:
            cls = class_for_code(code)
        detail = str(error.get("message") or "")
    else:
        return None
    if not isinstance(code, int | str):
        code = None
    if cls is BadRequestError and says_too_long(detail):
        cls = PromptTooLongError
    if retry_after is None:
        retry_after = retry_hint(payload)
    return build_error(
        cls,
        detail,
        provider=provider,
        redact=redact,
        partial=partial,
        status=status,
        code=code,
        retry_after=retry_after,
        request_id=request_id,
    )


def build_error(
    cls: type[LLMError],
    detail: str,
    *,
    provider: str,
    redact: Redact,
    partial: bool = False,
    status: int | None = None,
    code: int | str | None = None,
    retry_after: float | None = None,
    request_id: str | None = None,
) -> LLMError:
    """An error of `cls` whose message names the provider, status and code, secrets removed."""
    parts = [PROVIDER_LABELS.get(provider, provider)]
    if status is not None:
        parts.append(f"HTTP {status}")
    if code is not None and code != status:
        parts.append(f"code {code}")
    message = " ".join(parts)
    if detail:
        message = f"{message}: {redact(detail)[:300]}"
    return cls(
        message,
        provider=provider,
        partial=partial,
        status=status,
        code=code,
        retry_after=retry_after,
        request_id=request_id,
    )
