"""A few-token check of a provider and key: which dialect it accepts, how fast, whether it
caches, and what that cost (`python -m bot probe`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from bot.llm.client import LLMClient
from bot.llm.errors import LLMError
from bot.llm.sampling import SamplingParams
from bot.llm.types import ChatResult, Usage
from bot.models import ChatMessage, Dialect
from bot.pricing import resolve_cost

__all__ = ["PROBE_PARAMS", "ProbeReport", "ProbeResult", "probe_endpoint"]

PROBE_PARAMS = SamplingParams(temperature=0.7, top_p=0.95, max_tokens=8)
_CARD = "You are Probe, a terse test character in a connection check. Answer with one short word."
_CACHE_FILLER = (
    "The Lantern Tea House stands where the north road meets the river. Its keeper pours "
    "plum tea for travellers, remembers every debt, and never tells a story the same way "
    "twice. "
) * 40
"""About 1,500 tokens: providers only cache prefixes past roughly a thousand tokens."""

NATIVE_PROBE: list[ChatMessage] = [
    {"role": "system", "name": "Probe", "content": _CARD},
    {"role": "user_system", "name": "Tester", "content": "Tester is checking the connection."},
    {"role": "group", "content": "Connection check"},
    {"role": "sample_message_user", "name": "Tester", "content": "Ping?"},
    {"role": "sample_message_ai", "name": "Probe", "content": "Pong."},
    {"role": "user", "name": "Tester", "content": "Ping?"},
]
FLAT_PROBE: list[ChatMessage] = [
    {
        "role": "system",
        "content": f"{_CARD}\n\nPlayers:\n- Tester: checking the connection.\n\n"
        "Scene: Connection check",
    },
    {"role": "user", "content": "Tester: Ping?"},
]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe request: whether it worked, how fast, what it cost."""

    ok: bool
    first_token_seconds: float | None = None
    text: str = ""
    usage: Usage | None = None
    cost_usd: float = 0.0
    error: str = ""


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """Everything `python -m bot probe` prints."""

    native: ProbeResult
    flat: ProbeResult
    cache: list[ProbeResult] = field(default_factory=list)

    @property
    def dialect(self) -> Dialect | None:
        """What the endpoint accepts: native roles, flat only, or nothing (None)."""
        if self.native.ok:
            return "native"
        return "flat" if self.flat.ok else None

    @property
    def cached_tokens(self) -> int | None:
        """`cached_tokens` of the repeated request, None if the provider never said."""
        if len(self.cache) < 2 or self.cache[1].usage is None:
            return None
        usage = self.cache[1].usage
        return usage.cached_tokens if usage.cached_reported else None

    @property
    def cost_usd(self) -> float:
        """What all the probe requests cost together."""
        return sum(r.cost_usd for r in (self.native, self.flat, *self.cache))


async def probe_endpoint(
    client: LLMClient, *, clock: Callable[[], float] = time.monotonic
) -> ProbeReport:
    """Send one native and one flat request of a few tokens, then the same long prefix
    twice in the dialect that works, to see whether the provider reports cached tokens.
    """
    native = await _send(client, NATIVE_PROBE, clock)
    flat = await _send(client, FLAT_PROBE, clock)
    cache: list[ProbeResult] = []
    if native.ok or flat.ok:
        base = NATIVE_PROBE if native.ok else FLAT_PROBE
        long_prefix: list[ChatMessage] = [
            {**base[0], "content": base[0]["content"] + "\n\n" + _CACHE_FILLER},
            *base[1:],
        ]
        for _ in range(2):
            cache.append(await _send(client, long_prefix, clock))
    return ProbeReport(native=native, flat=flat, cache=cache)


async def _send(
    client: LLMClient, messages: Sequence[ChatMessage], clock: Callable[[], float]
) -> ProbeResult:
    started = clock()
    first: float | None = None
    parts: list[str] = []
    result: ChatResult | None = None
    try:
        async with aclosing(client.stream_chat(messages, PROBE_PARAMS, max_attempts=1)) as items:
            async for item in items:
                if isinstance(item, str):
                    if first is None:
                        first = clock() - started
                    parts.append(item)
                else:
                    result = item
    except LLMError as error:
        return ProbeResult(ok=False, first_token_seconds=first, error=str(error))
    usage = result.usage if result is not None else None
    cost = 0.0
    if usage is not None:
        cost = resolve_cost(
            usage.cost_usd, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens
        )
    return ProbeResult(
        ok=True, first_token_seconds=first, text="".join(parts), usage=usage, cost_usd=cost
    )
