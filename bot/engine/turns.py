"""Build the request for one persona turn from what the scene's memory holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.engine.context import ContextGatherer
from bot.engine.memory import SceneMemory
from bot.engine.types import PreparedTurn, PromptInputs
from bot.llm import SamplingParams
from bot.llm.dialect import DialectPolicy
from bot.memory import ChannelConfig
from bot.models import AuthorKind, Dialect, HistoryLine, Persona, PlayerSheet, Scene
from bot.prompt import BuiltPrompt, build_messages, players_in_order
from bot.tokens import PromptBudget, margin_for

DEFAULT_SCENE_NAME = "An open roleplay scene"
CUE_SPEAKER = "Director"
CONTINUE_CUE = "(Continue your last message exactly where it stopped. Do not repeat any of it.)"
PREPARED_AT_ONCE = 8
"""Turns whose request is prepared at the same time; the others wait, in arrival order.

A burst of messages in many channels would otherwise prepare every turn side by side on the
one event loop, and no channel would see its first text before all of them were under way.
Admitted a few at a time, the first channels answer first and the median comes sooner."""


class TurnBuilder:
    """Turns a channel's memory into a `PreparedTurn` for one persona."""

    def __init__(self, memory: SceneMemory, dialect: DialectPolicy) -> None:
        self._memory = memory
        self._dialect = dialect
        self.context = ContextGatherer(memory)
        self._admitted = asyncio.Semaphore(PREPARED_AT_ONCE)
        self._rating: Callable[[int], str] = lambda _channel_id: ""

    def rate_with(self, rating: Callable[[int], str]) -> None:
        """How to tell a channel's content rating sentence (the Discord side knows)."""
        self._rating = rating

    async def prepare(
        self,
        config: ChannelConfig,
        cast: Sequence[Persona],
        persona: Persona,
        *,
        exclude_from: int | None = None,
        cue: str | None = None,
    ) -> PreparedTurn:
        """Build the request for `persona`'s next line in the channel of `config`.

        `exclude_from` leaves out history from that memory id on (used to regenerate a reply);
        `cue` adds a final director's line (used to continue a cut-off reply).
        """
        async with self._admitted:
            return await self._prepare(config, cast, persona, exclude_from, cue)

    async def _prepare(
        self,
        config: ChannelConfig,
        cast: Sequence[Persona],
        persona: Persona,
        exclude_from: int | None,
        cue: str | None,
    ) -> PreparedTurn:
        memory = self._memory
        channel_id = config.channel_id
        window = await memory.window(channel_id)
        rows = window.rows
        joined = (await memory.joined(channel_id)).get(persona.id, 0)
        if joined > 0:
            # A late joiner knows only what happened since it joined: its own summary of that,
            # then the lines after what that summary covers.
            summary, covered, _ = await memory.summary(channel_id, persona.id)
            start = max(joined, covered or 0)
        else:
            summary, _, _ = await memory.summary(channel_id)
            start = 0
        if exclude_from is not None or start:
            end = exclude_from
            history = tuple(
                line for rid, line in rows if rid > start and (end is None or rid < end)
            )
        else:
            history = tuple(line for _, line in rows)
        context = await self.context.gather(
            config,
            persona,
            history,
            after_id=start or None,
            before_id=next((rid for rid, _ in rows if rid > start), None),
            whole=window.whole,
        )
        if cue is not None:
            history += (HistoryLine(speaker=CUE_SPEAKER, text=cue, kind=AuthorKind.HUMAN),)
        inputs = PromptInputs(
            players=await self._active_players(config.guild_id, history),
            scene=Scene(config.scene_name or DEFAULT_SCENE_NAME, config.scene_setting),
            summary=summary,
            pins=await memory.pins(channel_id),
            cast=tuple(p for p in cast if p.id != persona.id),
            history=history,
            ooc="mark" if (config.ooc_mode or memory.config.ooc_mode) == "mark" else "drop",
            notes=context.notes,
            rating=self._rating(channel_id),
        )
        params = self.sampling_for(persona, config)
        prompt = self.build(persona, inputs, self._dialect.current, params.max_tokens)
        reply_to, user_id = None, None
        for line_id, line in reversed(rows):
            if exclude_from is not None and line_id >= exclude_from:
                continue
            if line.kind is AuthorKind.HUMAN:
                user_id = line.user_id
                reply_to = line_id
                break
        return PreparedTurn(
            channel_id=channel_id,
            guild_id=config.guild_id,
            persona=persona,
            prompt=prompt,
            params=params,
            reply_to=reply_to,
            user_id=user_id,
            inputs=inputs,
            context=context,
        )

    def sampling_for(self, persona: Persona, config: ChannelConfig) -> SamplingParams:
        """What `persona`'s next reply in a channel samples with: each value is the channel's
        override, else the persona card's value, else the server's setting.
        """
        overrides = config.generation
        defaults = self._memory.config
        return SamplingParams.clamped(
            temperature=float(
                overrides.get("temperature", persona.temperature or defaults.temperature)
            ),
            top_p=float(overrides.get("top_p", persona.top_p or defaults.top_p)),
            max_tokens=int(
                overrides.get("max_tokens", persona.max_tokens or defaults.reply_tokens)
            ),
        )

    def build(
        self,
        persona: Persona,
        inputs: PromptInputs,
        dialect: Dialect,
        reply_tokens: int,
        *,
        shrink_from: int | None = None,
    ) -> BuiltPrompt:
        """Render the prompt of a turn in one dialect; with `shrink_from`, at most 80 % of
        that many tokens (after an over-length refusal).
        """
        config = self._memory.config
        budget = PromptBudget(
            context_tokens=config.context_tokens,
            reply_tokens=reply_tokens,
            safety_margin=margin_for(config.context_tokens),
            history_tokens=config.history_tokens,
        )
        if shrink_from is not None:
            budget = budget.shrunk(shrink_from)
        return build_messages(
            persona,
            players=inputs.players,
            scene=inputs.scene,
            history=inputs.history,
            summary=inputs.summary,
            pins=inputs.pins,
            cast=inputs.cast,
            notes=inputs.notes,
            rating=inputs.rating,
            dialect=dialect,
            budget=budget,
            estimator=self._memory.estimator,
            ooc=inputs.ooc,
        )

    async def _active_players(
        self, guild_id: int | None, history: Sequence[HistoryLine]
    ) -> tuple[PlayerSheet, ...]:
        """A sheet for every player in the history, in order of their first line there (the
        list only grows at its end between folds, so the cached prefix holds).
        """
        players: list[PlayerSheet] = []
        for user_id, label in players_in_order(history):
            sheet = await self._memory.sheet(guild_id, user_id)
            players.append(sheet or PlayerSheet(user_id=user_id, name=label))
        return tuple(players)
