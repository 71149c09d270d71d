"""Rolling scene summaries: fold history that no longer fits the prompt into a short recap."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.llm import ChatResult, LLMClient, LLMError, SamplingParams
from bot.models import AuthorKind, ChatMessage, HistoryLine

log = logging.getLogger(__name__)

SUMMARY_INSTRUCTIONS = (
    "You keep the running summary of a group roleplay scene played on Discord. Update the "
    "summary with the new events. Write compact past-tense notes in the third person: who is "
    "present and what they want, what happened, names, places, items, promises, secrets and "
    "open threads. Keep everything from the previous summary that still matters; drop what "
    "no longer does. Never invent events. At most {words} words, no preamble."
)
SUMMARY_PARAMS = SamplingParams(temperature=0.3, top_p=0.9, max_tokens=700)
MAX_WORDS = 350


def summary_request(previous: str | None, lines: Sequence[HistoryLine]) -> list[ChatMessage]:
    """The request that turns `previous` plus `lines` into an updated summary.

    Only `system` and `user` roles are used, so it works on every endpoint and dialect.
    """
    transcript = "\n".join(
        f"{line.speaker}: {line.text}" for line in lines if line.text and not line.ooc
    )
    earlier = previous.strip() if previous else "(none yet: this is the start of the scene)"
    return [
        {"role": "system", "content": SUMMARY_INSTRUCTIONS.format(words=MAX_WORDS)},
        {
            "role": "user",
            "content": (
                f"Previous summary:\n{earlier}\n\nNew events:\n{transcript}\n\n"
                "Write the updated summary."
            ),
        },
    ]


async def summarize(
    llm: LLMClient, previous: str | None, lines: Sequence[HistoryLine]
) -> tuple[str, ChatResult | None] | None:
    """Ask the model for an updated summary; None if it failed (nothing is lost then)."""
    if not any(line.kind is AuthorKind.HUMAN or line.persona_id for line in lines):
        return None
    text: list[str] = []
    result: ChatResult | None = None
    try:
        async for event in llm.stream_chat(summary_request(previous, lines), SUMMARY_PARAMS):
            if isinstance(event, str):
                text.append(event)
            else:
                result = event
    except LLMError as error:
        log.warning("Summary request failed, history stays as it is: %s", error)
        return None
    summary = "".join(text).strip()
    if not summary or (result is not None and result.finish_reason not in ("stop", "length")):
        return None
    return summary, result
