"""Ask the model for one reply: the request in the endpoint's dialect, its cost in the ledger."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing

from bot.engine.memory import SceneMemory
from bot.engine.turns import TurnBuilder
from bot.engine.types import PreparedTurn
from bot.llm import ChatResult, LLMClient, LLMError, TurnRequest, Usage, stream_turn
from bot.metrics import MetricsSink
from bot.models import Dialect
from bot.prompt import BuiltPrompt
from bot.prompt.output import ReplyFilter

log = logging.getLogger(__name__)


class ModelSpeech:
    """Streams persona replies from the model and accounts what they cost."""

    def __init__(
        self, llm: LLMClient, builder: TurnBuilder, memory: SceneMemory, metrics: MetricsSink
    ) -> None:
        self._llm = llm
        self._builder = builder
        self._memory = memory
        self._metrics = metrics

    async def stream(self, turn: PreparedTurn) -> AsyncIterator[str | ChatResult]:
        """Stream the model's clean reply through `stream_turn` (dialect choice and fallback,
        the one-time recoveries, output cleaning). A reply cut by an error after text was
        shown still has its (estimated) usage recorded before the error goes on.
        """
        built: dict[tuple[Dialect, bool], BuiltPrompt] = {(turn.prompt.dialect, False): turn.prompt}
        max_tokens = turn.params.max_tokens
        context = self._memory.config.context_tokens
        estimator = self._memory.estimator

        def prompt_for(dialect: Dialect, shrink: bool) -> BuiltPrompt:
            prompt = built.get((dialect, shrink))
            if prompt is None:
                if shrink:
                    refused = prompt_for(dialect, False)
                    estimator.learn_overflow(refused.raw_tokens, context - max_tokens)
                    prompt = self._builder.build(
                        turn.persona,
                        turn.inputs,
                        dialect,
                        max_tokens,
                        shrink_from=refused.estimated_tokens,
                    )
                else:
                    prompt = self._builder.build(turn.persona, turn.inputs, dialect, max_tokens)
                built[(dialect, shrink)] = prompt
            return prompt

        def render(dialect: Dialect, shrink: bool) -> TurnRequest:
            prompt = prompt_for(dialect, shrink)
            return TurnRequest(prompt.messages, prompt.estimated_tokens, prompt.raw_tokens)

        events = stream_turn(
            self._llm,
            render,
            turn.params,
            context_tokens=context,
            cleaner=ReplyFilter(turn.prompt.persona_name, turn.prompt.speakers),
            count_tokens=estimator.count,
        )
        try:
            async with aclosing(events):
                async for event in events:
                    yield event
        except LLMError as error:
            if error.partial and error.usage is not None:
                await self._record(turn, error.usage, flags="")
            raise

    async def account(self, turn: PreparedTurn, result: ChatResult | None) -> None:
        """Record token use and cost; calibrate the token estimate from the provider's count."""
        if result is None or result.usage is None:
            return
        usage = result.usage
        if usage.prompt_tokens > 0 and not usage.estimated:
            raw = result.prompt_raw or turn.prompt.raw_tokens
            self._memory.estimator.calibrate(raw, usage.prompt_tokens)
        await self._record(turn, usage, flags=result.flags.ledger())

    async def _record(self, turn: PreparedTurn, usage: Usage, *, flags: str) -> None:
        self._metrics.usage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            cost_usd=usage.cost_usd or 0.0,
        )
        await self._memory.record_usage(
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            user_id=turn.user_id,
            persona_id=turn.persona.id,
            usage=usage,
            flags=flags,
        )
