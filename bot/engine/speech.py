"""Ask the model for one reply: the request in the endpoint's dialect, its cost in the ledger."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from bot.engine.memory import SceneMemory
from bot.engine.turns import TurnBuilder
from bot.engine.types import PreparedTurn
from bot.llm import ChatResult, LLMClient, LLMError
from bot.metrics import MetricsSink

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
        """Stream the model's reply; falls back to the flat dialect once if roles are refused."""
        dialect = self._llm.dialect
        prompt = turn.prompt
        if prompt.dialect != dialect.current:
            prompt = self._builder.build(
                turn.persona, turn.inputs, dialect.current, turn.params.max_tokens
            )
        yielded = False
        try:
            async for event in self._llm.stream_chat(prompt.messages, turn.params):
                yielded = yielded or isinstance(event, str)
                yield event
        except LLMError as error:
            if yielded or prompt.dialect == "flat" or not dialect.should_fall_back(error):
                raise
            log.warning("Provider refused M2-her's roleplay roles (%s); trying flat prompts", error)
            flat = self._builder.build(turn.persona, turn.inputs, "flat", turn.params.max_tokens)
            remembered = False
            async for event in self._llm.stream_chat(flat.messages, turn.params):
                if not remembered:
                    dialect.remember_flat()  # only once flat demonstrably works
                    remembered = True
                yield event

    async def account(self, turn: PreparedTurn, result: ChatResult | None) -> None:
        """Record token use and cost; calibrate the token estimate from the provider's count."""
        if result is None or result.usage is None:
            return
        usage = result.usage
        self._metrics.usage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            cost_usd=usage.cost_usd or 0.0,
        )
        if usage.prompt_tokens > 0:
            self._memory.estimator.calibrate(turn.prompt.estimated_tokens, usage.prompt_tokens)
        await self._memory.record_usage(
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            user_id=turn.user_id,
            persona_id=turn.persona.id,
            usage=usage,
        )
