"""What players do to the newest reply: regenerate, continue, flip alternatives, stop."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.budget import budget_refusal
from bot.engine.leases import TurnLeases
from bot.engine.port import Controls, Ending, Look
from bot.engine.rating_guard import RatingGuard
from bot.engine.reply import ReplyKind, ReplyOutcome, StopReason
from bot.engine.scheduler import TurnScheduler
from bot.engine.stage import Stage
from bot.engine.turns import CONTINUE_CUE, TurnBuilder
from bot.engine.types import PreparedTurn
from bot.errors import UserFacingError
from bot.memory import MessageRecord
from bot.models import AuthorKind, ReplyStatus
from bot.ratings import pause_notice

T = TypeVar("T")

SETTLE_WAIT = 5.0
"""How long a control waits for a reply that is only storing its final look."""

_LOOKS = {
    ReplyStatus.COMPLETE: Look.COMPLETE,
    ReplyStatus.INTERRUPTED: Look.INTERRUPTED,
    ReplyStatus.FAILED: Look.FAILED,
}


class ReplyControls:
    """Changes the newest reply of a channel, always as that channel's turn."""

    def __init__(
        self,
        stage: Stage,
        builder: TurnBuilder,
        leases: TurnLeases,
        scheduler: TurnScheduler,
        ratings: RatingGuard,
    ) -> None:
        self._stage = stage
        self._ratings = ratings
        self._memory = stage.memory
        self._builder = builder
        self._leases = leases
        self._scheduler = scheduler

    async def newest_reply(self, channel_id: int) -> MessageRecord:
        """The channel's newest persona reply (raises a user-facing error when there is none)."""
        reply_id = await self._memory.newest_reply_id(channel_id)
        record = None if reply_id is None else await self._memory.reply(reply_id)
        if record is None or record.persona_id is None:
            raise UserFacingError("There's no persona reply here to work on yet.")
        return record

    async def changeable(self, channel_id: int, reply_id: int | None) -> MessageRecord:
        """The reply a control acts on, if it may still change (raises UserFacingError)."""
        if reply_id is None:
            record = await self.newest_reply(channel_id)
        else:
            found = await self._memory.reply(reply_id)
            if found is None or found.channel_id != channel_id:
                raise UserFacingError("That reply is no longer in this scene's memory.")
            record = found
        if record.kind is not AuthorKind.PERSONA or record.persona_id is None:
            raise UserFacingError("Only persona replies can be changed.")
        life = self._stage.scene(channel_id).speaking
        # A reply whose text is final is only storing itself: wait for that, don't refuse.
        if life is not None and not (life.settling and await life.wait_finished(SETTLE_WAIT)):
            raise UserFacingError(
                "A persona is speaking right now — wait for it to finish, or `/stop` it."
            )
        if await self._memory.has_later_reply(channel_id, record.id):
            raise UserFacingError(
                "Only the newest reply can be changed; this one is part of the story now."
            )
        return record

    async def regenerate(
        self, channel_id: int, reply_id: int | None = None, *, user_id: int | None = None
    ) -> ReplyOutcome:
        """Write a reply again as a new alternative (a failed one is rewritten in place).

        `user_id` is the player asking: their daily budget is checked too.
        """
        record = await self.changeable(channel_id, reply_id)
        await self._refuse_over_budget(record, user_id)

        async def run() -> ReplyOutcome:
            fresh = await self._memory.reply(record.id) or record
            turn = await self._prepare(fresh, exclude_from=fresh.id)
            kind = ReplyKind.RETRY if fresh.status is ReplyStatus.FAILED else ReplyKind.REGENERATE
            return await self._stage.speak(turn, kind, record=fresh, reuse=fresh.discord_ids)

        return await self._as_turn(channel_id, run)

    async def continue_reply(
        self, channel_id: int, reply_id: int | None = None, *, user_id: int | None = None
    ) -> ReplyOutcome:
        """Let a reply that was cut off carry on where it stopped."""
        record = await self.changeable(channel_id, reply_id)
        if not record.text.strip():
            raise UserFacingError("That reply has no text to continue; press Retry instead.")
        await self._refuse_over_budget(record, user_id)

        async def run() -> ReplyOutcome:
            fresh = await self._memory.reply(record.id) or record
            turn = await self._prepare(fresh, exclude_from=fresh.id + 1, cue=CONTINUE_CUE)
            return await self._stage.speak(
                turn, ReplyKind.CONTINUE, record=fresh, reuse=fresh.discord_ids
            )

        return await self._as_turn(channel_id, run)

    async def flip(self, channel_id: int, reply_id: int, step: int) -> None:
        """Show the previous or next alternative of a reply; memory follows what is shown."""
        record = await self.changeable(channel_id, reply_id)
        index = record.swipe_index + step
        if not 0 <= index < record.swipe_count:
            return

        async def run() -> None:
            shown = await self._memory.select_alternative(record.id, index)
            persona = await self._stage.persona_of(shown)
            outlet = self._stage.port.open_reply(
                channel_id, persona, message_ids=record.discord_ids
            )
            ending = Ending(
                shown.text,
                _LOOKS.get(shown.status, Look.COMPLETE),
                controls=Controls(shown.id, shown.swipe_index, shown.swipe_count),
            )
            result = await outlet.settle(ending)
            await self._memory.set_reply_messages(record.id, result.message_ids)
            await self._stage.now_showing(channel_id, record.id, persona, result.message_ids)

        await self._as_turn(channel_id, run)

    def stop(self, channel_id: int) -> bool:
        """Stop the reply being written (the text so far stays); False if nobody speaks."""
        self._scheduler.cancel(channel_id)
        life = self._stage.scene(channel_id).speaking
        if life is None:
            return False
        life.stop(StopReason.PLAYER)
        return True

    async def _prepare(
        self, record: MessageRecord, *, exclude_from: int, cue: str | None = None
    ) -> PreparedTurn:
        config = await self._memory.channel(record.channel_id)
        if config is None:
            raise UserFacingError("Roleplay isn't set up in this channel any more.")
        cast = await self._memory.cast(config)
        persona = next((p for p in cast if p.id == record.persona_id), None)
        if persona is None:
            persona = await self._memory.personas.get(config.guild_id, record.persona_id or "")
        if persona is None:
            raise UserFacingError(f"{record.author_name} isn't available in this scene any more.")
        blocked = await self._ratings.blocked(record.channel_id, config.guild_id, [persona])
        if blocked:
            raise UserFacingError(pause_notice(p.name for p in blocked))
        return await self._builder.prepare(
            config, cast, persona, exclude_from=exclude_from, cue=cue
        )

    async def _refuse_over_budget(self, record: MessageRecord, user_id: int | None) -> None:
        if record.guild_id is None:
            return
        settings = await self._memory.guild_settings(record.guild_id)
        refusal = await budget_refusal(self._memory.store, settings, user_id, now=time.time())
        if refusal is not None:
            raise UserFacingError(refusal)

    async def _as_turn(self, channel_id: int, work: Callable[[], Awaitable[T]]) -> T:
        async def guarded() -> T:
            async with self._leases.exclusive(channel_id):
                return await work()

        return await self._scheduler.run_now(channel_id, guarded)
