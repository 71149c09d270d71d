"""One persona turn against the model: dialect choice, fallback and the one-time recoveries.

`stream_turn` is what the engine calls instead of `LLMClient.stream_chat` for a persona reply.
It asks the caller to render the prompt in a dialect (and smaller, after an over-length
refusal), and answers every failure before the first token the way m2her-api.md §5.4 says:

| failure before the first token              | what happens                                  |
|---------------------------------------------|-----------------------------------------------|
| over-long prompt (400/413 context, 1039 big) | rendered smaller, sent once more, same dialect |
| 1042 invisible characters                    | stripped harder, sent once more               |
| 1027 / flagged reply with no text            | regenerated once                              |
| refusal naming a role or field (auto)        | flat from now on (stored), this turn too      |
| native failed every try (5xx, timeouts, auto)| flat for this turn; sticks if it repeats      |
| anything else                                | raised to the caller                          |

Errors after text was shown are always raised (`partial=True`): never a silent restart.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Protocol

from bot.llm.client import LLMClient
from bot.llm.dialect import failure_kind
from bot.llm.errors import LLMError
from bot.llm.sampling import SamplingParams
from bot.llm.types import ChatResult, StreamItem, Usage
from bot.models import ChatMessage, Dialect
from bot.text import strip_invisible_strict

log = logging.getLogger(__name__)

__all__ = ["Render", "TextCleaner", "TurnRequest", "stream_turn", "strip_messages"]


class TextCleaner(Protocol):
    """A streaming filter over the reply's text (`bot.prompt.output.ReplyFilter` is one)."""

    @property
    def done(self) -> bool:
        """True once nothing more will be shown (the rest of the stream can be dropped)."""
        ...

    @property
    def cut(self) -> str:
        """What was cut off and never shown."""
        ...

    def feed(self, delta: str) -> str:
        """The next piece of model text in; what may be shown now out."""
        ...

    def finish(self) -> str:
        """The stream ended: what was held back and may be shown."""
        ...


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One rendering of a turn's prompt."""

    messages: Sequence[ChatMessage]
    estimated_tokens: int = 0
    """The caller's (calibrated) estimate of the prompt."""
    raw_tokens: int = 0
    """The uncalibrated estimate, for calibrating against the provider's count."""


Render = Callable[[Dialect, bool], TurnRequest]
"""`render(dialect, shrink)`: the prompt in `dialect`; `shrink` after an over-length refusal
(the caller must then return a smaller prompt, e.g. built with `PromptBudget.shrunk`)."""


def strip_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The messages with every invisible character removed from contents and names."""
    cleaned: list[ChatMessage] = []
    for message in messages:
        copy: ChatMessage = {**message, "content": strip_invisible_strict(message["content"])}
        if "name" in message:
            copy["name"] = strip_invisible_strict(message["name"]) or "Someone"
        cleaned.append(copy)
    return cleaned


async def stream_turn(
    client: LLMClient,
    render: Render,
    params: SamplingParams,
    *,
    context_tokens: int = 65536,
    cleaner: TextCleaner | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> AsyncGenerator[StreamItem, None]:
    """Stream one persona reply: text deltas, then one `ChatResult` (with `dialect`,
    `recoveries`, `prompt_estimate` and `prompt_raw` set).

    With a `cleaner`, only what it lets through is yielded, `ChatResult.text` is that clean
    text, and once it is `done` the model's stream is closed. With `count_tokens`, a reply
    that ends without the provider's usage (closed early, or cut by an error after text was
    shown) gets an estimate: on the result, or as `usage` on the raised error.

    Raises the `LLMError` that ended the turn. Close the generator if you stop early.
    """
    policy = client.dialect
    plan = await policy.plan_turn()
    dialect = plan.dialect
    shrink = stripped = regenerated = False
    native_error: LLMError | None = None
    recoveries: list[str] = []
    while True:
        request = render(dialect, shrink)
        messages = strip_messages(request.messages) if stripped else request.messages
        probing = plan.probing and dialect == "native"
        result: ChatResult | None = None
        received: list[str] = []
        shown: list[str] = []
        try:
            stream = client.stream_chat(messages, params, max_attempts=1 if probing else None)
            async with aclosing(stream) as items:
                async for item in items:
                    if not isinstance(item, str):
                        result = item
                        continue
                    received.append(item)
                    text = cleaner.feed(item) if cleaner is not None else item
                    if text:
                        shown.append(text)
                        yield text
                    if cleaner is not None and cleaner.done:
                        break
        except LLMError as error:
            if error.partial:
                if count_tokens is not None and error.usage is None:
                    error.usage = _estimate(request, "".join(received), count_tokens)
                raise
            kind = failure_kind(
                error, estimated_tokens=request.estimated_tokens, context_tokens=context_tokens
            )
            if kind == "too_long" and not shrink:
                log.warning("The prompt was refused as too long (%s); sending it shorter", error)
                recoveries.append(f"prompt shortened after an over-length refusal ({error})")
                shrink = True
                continue
            if kind == "invisible" and not stripped:
                log.warning("The provider refused invisible characters (%s); stripped", error)
                recoveries.append("invisible characters stripped after MiniMax 1042")
                stripped = True
                continue
            if kind == "blocked_output" and not regenerated:
                log.warning("The reply was blocked by the filter (%s); regenerating once", error)
                recoveries.append("regenerated once after the output filter blocked the reply")
                regenerated = True
                continue
            if dialect == "native" and plan.may_fall_back:
                if kind == "refusal":
                    if probing:
                        await policy.probe_failed(error)
                    else:
                        await policy.native_refused(error)
                    recoveries.append(f"flat: the endpoint refused the roleplay roles ({error})")
                    dialect = "flat"
                    continue
                if kind in ("transient", "bad_request"):
                    if probing:
                        await policy.probe_failed(error)
                    log.warning("Native roles failed this turn (%s); trying flat", error)
                    recoveries.append(f"flat for this turn: native failed ({error})")
                    native_error = error
                    dialect = "flat"
                    continue
            raise
        if cleaner is not None:
            if tail := cleaner.finish():
                shown.append(tail)
                yield tail
            if cleaner.cut:
                recoveries.append("reply cut where the model began writing someone else's turn")
                log.info("Cut the reply where the model began writing another speaker's turn")
                log.debug("Cut from the reply: %r", cleaner.cut[:2000])
        if result is None:  # closed early: the text so far is the reply
            result = ChatResult(finish_reason="stop", usage=None, request_id=None, text="")
        usage = result.usage
        if usage is None and count_tokens is not None:
            usage = _estimate(request, "".join(received), count_tokens)
        if dialect == "native":
            await policy.native_worked()
        elif native_error is not None and not plan.probing:
            await policy.flat_rescued(native_error)
        yield replace(
            result,
            text="".join(shown),
            usage=usage,
            dialect=dialect,
            recoveries=tuple(recoveries),
            prompt_estimate=request.estimated_tokens,
            prompt_raw=request.raw_tokens,
        )
        return


def _estimate(request: TurnRequest, text: str, count_tokens: Callable[[str], int]) -> Usage:
    """What a request probably cost when the provider did not say."""
    return Usage(
        prompt_tokens=request.estimated_tokens,
        completion_tokens=count_tokens(text) if text else 0,
        estimated=True,
    )
