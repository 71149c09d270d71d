"""Folding the decoded SSE chunks of one attempt into deltas, a finish reason and usage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.llm.classify import Redact, build_error, error_from_payload
from bot.llm.errors import InputFilteredError, LLMError, OutputFilteredError, TransientError
from bot.llm.types import ContentFlags, Usage


def parse_usage(raw: Mapping[str, Any]) -> Usage:
    """A `Usage` from an OpenAI-style `usage` object (OpenRouter adds `cost`)."""
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    cost = raw.get("cost")
    return Usage(
        prompt_tokens=_int(raw.get("prompt_tokens")),
        completion_tokens=_int(raw.get("completion_tokens")),
        cached_tokens=_int(cached),
        cached_reported=isinstance(cached, int) and not isinstance(cached, bool),
        cost_usd=_float(cost),
    )


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_flags(payload: Mapping[str, Any]) -> ContentFlags:
    """MiniMax's `input_sensitive`/`output_sensitive` flags (and their types) in a chunk."""
    input_type = output_type = None
    if payload.get("input_sensitive") is True:
        input_type = _int(payload.get("input_sensitive_type"))
    if payload.get("output_sensitive") is True:
        output_type = _int(payload.get("output_sensitive_type"))
    return ContentFlags(input_type, output_type)


class StreamState:
    """What one attempt has received so far; `feed` each chunk, in order.

    Works for both providers: OpenRouter's usage-only last chunk, MiniMax's final aggregate
    (`object: "chat.completion"`, whose text repeats the deltas and is therefore never
    appended) and every in-band error shape (`error`, `base_resp`, `finish_reason: "error"`).
    Content-filter flags are collected in `flags`, not raised: see `blocked`.
    """

    __slots__ = (
        "ended",
        "finish_reason",
        "flags",
        "parts",
        "provider",
        "redact",
        "request_id",
        "retry_after",
        "usage",
    )

    def __init__(self, *, provider: str, redact: Redact, request_id: str | None) -> None:
        self.provider = provider
        self.redact = redact
        self.request_id = request_id
        self.parts: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.ended = False
        """True once nothing more will follow ([DONE] or MiniMax's aggregate)."""
        self.retry_after: float | None = None
        """The response's `Retry-After`, given to in-band errors."""
        self.flags = ContentFlags()

    @property
    def partial(self) -> bool:
        """Whether any text has been handed out."""
        return bool(self.parts)

    def feed(self, chunk: Any) -> str:
        """Take one decoded chunk; return its new text ("" if none) or raise its error."""
        if not isinstance(chunk, dict):
            raise self._error(TransientError, "stream chunk is not a JSON object")
        if self.request_id is None and isinstance(chunk.get("id"), str):
            self.request_id = chunk["id"]
        if "error" in chunk or "base_resp" in chunk:  # what error_from_payload reads
            error = error_from_payload(
                chunk,
                provider=self.provider,
                redact=self.redact,
                partial=self.partial,
                retry_after=self.retry_after,
                request_id=self.request_id,
            )
            if error is not None:
                raise error
        if chunk.get("input_sensitive") is True or chunk.get("output_sensitive") is True:
            self.flags = self.flags.merge(parse_flags(chunk))
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = parse_usage(usage)
        choices = chunk.get("choices")
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            return ""
        choice = choices[0]
        finish = choice.get("finish_reason")
        if chunk.get("object") == "chat.completion":
            self.ended = True
            if self.finish_reason is None and isinstance(finish, str):
                self.finish_reason = finish
            return ""
        if finish == "error":
            inner = choice.get("error")
            error = None
            if isinstance(inner, dict):
                error = error_from_payload(
                    {"error": inner},
                    provider=self.provider,
                    redact=self.redact,
                    partial=self.partial,
                    request_id=self.request_id,
                )
            raise error or self._error(TransientError, "stream ended with finish_reason error")
        if finish == "content_filter":
            self.flags = self.flags.merge(ContentFlags(output_type=0))
            if not self.parts:
                raise self._error(OutputFilteredError, "the reply was blocked by the filter")
            self.finish_reason = finish
            return ""
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        text = content if isinstance(content, str) else ""
        if text:
            self.parts.append(text)
        if isinstance(finish, str) and finish:
            self.finish_reason = finish
        return text

    def blocked(self) -> LLMError | None:
        """The error a flagged reply without any text stands for (None if not blocked)."""
        if not self.flags or self.parts:
            return None
        if self.flags.input_type is not None:
            return self._error(InputFilteredError, f"no reply: {self.flags.describe()}")
        return self._error(OutputFilteredError, f"no reply: {self.flags.describe()}")

    def _error(self, cls: type[LLMError], detail: str) -> LLMError:
        return build_error(
            cls,
            detail,
            provider=self.provider,
            redact=self.redact,
            partial=self.partial,
            request_id=self.request_id,
        )
