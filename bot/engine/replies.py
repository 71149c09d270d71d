"""One persona reply: build the request, stream it with dialect fallback, store the result."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import aclosing

from bot.budget import budget_refusal
from bot.engine.memory import ChannelMemory
from bot.engine.types import PreparedTurn, PromptInputs
from bot.llm import ChatResult, LLMError, SamplingParams, TurnRequest, stream_turn
from bot.memory import ChannelConfig, MessageRecord
from bot.models import AuthorKind, Dialect, HistoryLine, Persona, PlayerSheet, ReplyStatus, Scene
from bot.prompt import BuiltPrompt, build_messages, players_in_order
from bot.prompt.output import ReplyFilter
from bot.tokens import PromptBudget

log = logging.getLogger(__name__)

DEFAULT_SCENE_NAME = "An open roleplay scene"
CUE_SPEAKER = "Director"
CONTINUE_CUE = "(Continue your last message exactly where it stopped. Do not repeat any of it.)"


class Replies(ChannelMemory):
    """Asks the model for persona replies and keeps what they produce."""

    async def prepare(
        self,
        channel_id: int,
        persona_id: str,
        *,
        exclude_from: int | None = None,
        cue: str | None = None,
    ) -> PreparedTurn | None:
        """Build the request for `persona_id`'s next line, or None if it is not in the cast.

        `exclude_from` leaves out history from that memory id on (used to regenerate a reply);
        `cue` adds a final director's line (used to continue a cut-off reply).
        """
        config = await self.channel(channel_id)
        if config is None:
            return None
        cast = await self.cast(config)
        persona = next((p for p in cast if p.id == persona_id), None)
        if persona is None:
            persona = await self.personas.get(config.guild_id, persona_id)
        if persona is None:
            return None
        window = await self._window(channel_id)
        rows = window.rows
        joined = (await self._joined(channel_id)).get(persona.id, 0)
        if joined > 0:
            # A late joiner knows only what happened since it joined: its own summary of that,
            # then the lines after what that summary covers.
            summary, covered = await self._summary(channel_id, persona.id)
            start = max(joined, covered or 0)
        else:
            summary, _ = await self._summary(channel_id)
            start = 0
        if exclude_from is not None or start:
            end = exclude_from if exclude_from is not None else None
            history = tuple(
                line for rid, line in rows if rid > start and (end is None or rid < end)
            )
        else:
            history = tuple(line for _, line in rows)
        if cue is not None:
            history += (HistoryLine(speaker=CUE_SPEAKER, text=cue, kind=AuthorKind.HUMAN),)
        players = await self._active_players(config.guild_id, history)
        pins = self._pins.get(channel_id)
        if pins is None:
            pins = tuple(pin.text for pin in await self.store.list_pins(channel_id))
            self._pins[channel_id] = pins
        scene = Scene(config.scene_name or DEFAULT_SCENE_NAME, config.scene_setting)
        inputs = PromptInputs(
            players=players,
            scene=scene,
            summary=summary,
            pins=pins,
            cast=tuple(p for p in cast if p.id != persona.id),
            history=history,
            ooc="mark" if (config.ooc_mode or self.config.ooc_mode) == "mark" else "drop",
        )
        params = self.sampling_for(persona, config)
        prompt = self._build(persona, inputs, self._dialect.current, params.max_tokens)
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
        )

    def sampling_for(self, persona: Persona, config: ChannelConfig) -> SamplingParams:
        """What `persona`'s next reply in a channel samples with: each value is the channel's
        override, else the persona card's value, else the server's setting.
        """
        overrides = config.generation
        return SamplingParams.clamped(
            temperature=float(
                overrides.get("temperature", persona.temperature or self.config.temperature)
            ),
            top_p=float(overrides.get("top_p", persona.top_p or self.config.top_p)),
            max_tokens=int(
                overrides.get("max_tokens", persona.max_tokens or self.config.reply_tokens)
            ),
        )

    def _build(
        self,
        persona: Persona,
        inputs: PromptInputs,
        dialect: Dialect,
        reply_tokens: int,
        *,
        shrink_from: int | None = None,
    ) -> BuiltPrompt:
        """The prompt for `persona`; with `shrink_from`, at most 80 % of that many tokens."""
        budget = PromptBudget(
            context_tokens=self.config.context_tokens,
            reply_tokens=reply_tokens,
            history_tokens=self.config.history_tokens,
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
            dialect=dialect,
            budget=budget,
            estimator=self._estimator,
            ooc=inputs.ooc,
        )

    async def _active_players(
        self, guild_id: int | None, history: Sequence[HistoryLine]
    ) -> tuple[PlayerSheet, ...]:
        """A sheet for every player in the history, in order of their first line there."""
        players: list[PlayerSheet] = []
        for user_id, label in players_in_order(history):
            sheet = await self._sheet(guild_id, user_id)
            players.append(sheet or PlayerSheet(user_id=user_id, name=label))
        return tuple(players)

    async def stream(self, turn: PreparedTurn) -> AsyncIterator[str | ChatResult]:
        """Stream the model's clean reply through `stream_turn` (dialect choice and fallback,
        the one-time recoveries, output cleaning); a reply cut by an error after text was
        shown still gets its (estimated) usage recorded before the error goes on.
        """
        built: dict[tuple[Dialect, bool], BuiltPrompt] = {(turn.prompt.dialect, False): turn.prompt}
        max_tokens = turn.params.max_tokens

        def prompt_for(dialect: Dialect, shrink: bool) -> BuiltPrompt:
            prompt = built.get((dialect, shrink))
            if prompt is None:
                if shrink:
                    refused = prompt_for(dialect, False)
                    limit = self.config.context_tokens - max_tokens
                    self._estimator.learn_overflow(refused.raw_tokens, limit)
                    prompt = self._build(
                        turn.persona,
                        turn.inputs,
                        dialect,
                        max_tokens,
                        shrink_from=refused.estimated_tokens,
                    )
                else:
                    prompt = self._build(turn.persona, turn.inputs, dialect, max_tokens)
                built[(dialect, shrink)] = prompt
            return prompt

        def render(dialect: Dialect, shrink: bool) -> TurnRequest:
            prompt = prompt_for(dialect, shrink)
            return TurnRequest(prompt.messages, prompt.estimated_tokens, prompt.raw_tokens)

        events = stream_turn(
            self.llm,
            render,
            turn.params,
            context_tokens=self.config.context_tokens,
            cleaner=ReplyFilter(turn.prompt.persona_name, turn.prompt.speakers),
            count_tokens=self._estimator.count,
        )
        try:
            async with aclosing(events):
                async for event in events:
                    yield event
        except LLMError as error:
            if error.partial and error.usage is not None:
                await self._record_usage(
                    guild_id=turn.guild_id,
                    channel_id=turn.channel_id,
                    user_id=turn.user_id,
                    persona_id=turn.persona.id,
                    usage=error.usage,
                )
            raise

    async def begin_reply(self, turn: PreparedTurn) -> int:
        """Create the reply's memory row (status streaming) before the first token shows."""
        return await self.store.begin_reply(
            channel_id=turn.channel_id,
            guild_id=turn.guild_id,
            persona_id=turn.persona.id,
            author_name=turn.persona.name,
            reply_to=turn.reply_to,
        )

    async def reply_progress(self, reply_id: int, text: str, discord_ids: Sequence[int]) -> None:
        """Keep what a streaming reply has shown so far, and the Discord messages showing it."""
        await self.store.save_progress(reply_id, text, discord_ids)

    async def finish_reply(
        self,
        turn: PreparedTurn,
        reply_id: int,
        *,
        text: str,
        complete: bool,
        discord_ids: Sequence[int],
        result: ChatResult | None,
    ) -> MessageRecord:
        """Store the reply's final text and status, account its usage, extend the window."""
        status = ReplyStatus.COMPLETE if complete else ReplyStatus.INTERRUPTED
        record = await self.store.finish_reply(reply_id, text, status, tuple(discord_ids))
        await self.account(turn, result)
        window = self._windows.get(turn.channel_id)
        if window is not None and text:
            self._insert(window, record.id, await self._line(record))
        return record

    async def account(self, turn: PreparedTurn, result: ChatResult | None) -> None:
        """Record token use and cost; calibrate the token estimate from the provider's count."""
        if result is None or result.usage is None:
            return
        usage = result.usage
        if usage.prompt_tokens > 0 and not usage.estimated:
            raw = result.prompt_raw or turn.prompt.raw_tokens
            self._estimator.calibrate(raw, usage.prompt_tokens)
        await self._record_usage(
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            user_id=turn.user_id,
            persona_id=turn.persona.id,
            usage=usage,
            flags=result.flags.ledger(),
        )

    async def prepare_continuation(
        self, channel_id: int, reply: MessageRecord
    ) -> PreparedTurn | None:
        """A turn in which a cut-off reply's persona carries on where it stopped."""
        if reply.persona_id is None:
            return None
        return await self.prepare(
            channel_id, reply.persona_id, exclude_from=reply.id + 1, cue=CONTINUE_CUE
        )

    async def add_alternative(
        self,
        turn: PreparedTurn,
        reply_id: int,
        *,
        text: str,
        complete: bool,
        result: ChatResult | None,
    ) -> MessageRecord:
        """Store a regenerated reply as a new alternative, now the one shown."""
        status = ReplyStatus.COMPLETE if complete else ReplyStatus.INTERRUPTED
        return await self._rewrote(turn, result, self.store.add_alternative(reply_id, text, status))

    async def extend_reply(
        self,
        turn: PreparedTurn,
        reply_id: int,
        *,
        text: str,
        complete: bool,
        result: ChatResult | None,
    ) -> MessageRecord:
        """Store the longer text of a continued reply."""
        status = ReplyStatus.COMPLETE if complete else ReplyStatus.INTERRUPTED
        return await self._rewrote(turn, result, self.store.finish_reply(reply_id, text, status))

    async def _rewrote(
        self, turn: PreparedTurn, result: ChatResult | None, stored: Awaitable[MessageRecord]
    ) -> MessageRecord:
        """Finish storing a changed reply: account its cost, drop the now stale window."""
        record = await stored
        await self.account(turn, result)
        self._windows.pop(turn.channel_id, None)
        return record

    async def select_alternative(self, reply_id: int, index: int) -> MessageRecord:
        """Show another alternative of a reply; memory follows what is shown."""
        record = await self.store.select_alternative(reply_id, index)
        self._windows.pop(record.channel_id, None)
        return record

    async def abandon_reply(self, reply_id: int) -> None:
        """A reply's message was deleted mid-stream: forget the reply like any deleted message."""
        record = await self.store.get_message(reply_id)
        if record is None:
            return
        if record.discord_ids:
            await self.store.delete_message(record.discord_ids[0])
        else:
            await self.store.finish_reply(reply_id, record.text, ReplyStatus.INTERRUPTED)
        self._windows.pop(record.channel_id, None)

    async def budget_refusal(self, guild_id: int | None, user_id: int | None) -> str | None:
        """A polite refusal when the server's or the player's daily budget is spent."""
        if guild_id is None:
            return None
        return await budget_refusal(self.store, guild_id, user_id, now=time.time())
