"""Hearing the players: store every line, decide who answers and when, take the turn."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from bot.dice import DiceError, inline_rolls
from bot.director import Address, addressed_persona, choose_speaker, next_in_chain
from bot.engine.leases import TurnLeases
from bot.engine.port import IncomingMessage
from bot.engine.rating_guard import RatingGuard
from bot.engine.scheduler import Trigger, TriggerKind, TurnScheduler
from bot.engine.stage import SceneState, Stage
from bot.engine.turns import TurnBuilder
from bot.memory import ChannelConfig, MessageRecord, NewMessage
from bot.models import AuthorKind, Persona
from bot.text import is_ooc, split_for_discord

log = logging.getLogger(__name__)

FLOOD_NOTICE_SECONDS = 8.0
ROLL_ERROR_SECONDS = 15.0
PROXY_SETTLE_SECONDS = 0.25
CHAIN_DELAY = 0.5
DISCORD_LIMIT = 2000


class Conversation:
    """Turns player lines into stored history and scheduled persona turns."""

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
        self._rules = stage.memory.config

    # ---- events ------------------------------------------------------------------------------

    async def heard(self, message: IncomingMessage) -> None:
        """A player wrote in a channel: store the line first, then schedule an answer if due."""
        config = await self._memory.channel(message.channel_id)
        if config is None or not config.enabled or not message.text:
            return
        message = self._roll_inline(message)
        record = await self.store_line(message)
        if record.ooc:
            return
        state = self._stage.scene(message.channel_id)
        state.human_lines += 1
        state.heard_at = message.received_at
        self._scheduler.cancel_kind(message.channel_id, TriggerKind.CHAIN)
        pause = 0.0 if message.via_proxy else self._cooldown(state, message)
        await self.schedule_answer(config, record, mentions_bot=message.mentions_bot, pause=pause)

    def _roll_inline(self, message: IncomingMessage) -> IncomingMessage:
        """Roll the message's `[[dice]]`: memory keeps the results in its text, and the
        channel sees them (a bad roll is explained and nothing of it is rolled).
        """
        port, channel_id = self._stage.port, message.channel_id
        try:
            rolled = inline_rolls(message.text)
        except DiceError as error:
            self._stage.spawn(port.notice(channel_id, f"🎲 {error}", lifetime=ROLL_ERROR_SECONDS))
            return message
        if rolled is None:
            return message
        lines = [f"🎲 **{message.author_name}**: {roll.breakdown}" for roll in rolled.rolls]
        self._stage.spawn(port.notice(channel_id, "\n".join(lines)))
        return dataclasses.replace(message, text=rolled.text)

    async def store_line(self, message: IncomingMessage) -> MessageRecord:
        """Store a player's line (idempotent: a line already stored comes back as it is)."""
        if message.via_proxy:
            self._stage.scene(message.channel_id).proxies_seen = True
        return await self._memory.remember(
            NewMessage(
                channel_id=message.channel_id,
                guild_id=message.guild_id,
                discord_id=message.discord_id,
                author_id=message.author_id,
                author_name=message.author_name,
                kind=AuthorKind.HUMAN,
                text=message.text,
                reply_to_discord_id=message.reply_to_discord_id,
                created_at=message.created_at,
                ooc=is_ooc(message.text),
            )
        )

    def _cooldown(self, state: SceneState, message: IncomingMessage) -> float:
        """Extra wait for a player writing faster than the cooldown: their lines are answered
        together once they pause (never dropped); they are told so once in a while.
        """
        cooldown = self._rules.user_cooldown_seconds
        if cooldown <= 0 or message.author_id is None:
            return 0.0
        now = self._stage.clock()
        last = state.last_line_at.get(message.author_id)
        state.last_line_at[message.author_id] = now
        if last is None or now - last >= cooldown:
            return 0.0
        if now - state.flood_noticed.get(message.author_id, -FLOOD_NOTICE_SECONDS) > (
            FLOOD_NOTICE_SECONDS
        ):
            state.flood_noticed[message.author_id] = now
            text = (
                f"⏳ {message.author_name}, you're writing faster than the scene can follow — "
                f"I kept every line and will answer once you pause (about {cooldown:g} s)."
            )
            self._stage.spawn(
                self._stage.port.notice(message.channel_id, text, lifetime=FLOOD_NOTICE_SECONDS)
            )
        return cooldown

    async def schedule_answer(
        self,
        config: ChannelConfig,
        record: MessageRecord,
        *,
        mentions_bot: bool = False,
        pause: float = 0.0,
        persona_hint: str | None = None,
    ) -> bool:
        """Ask for a turn answering `record` if the channel's rules call for one."""
        channel_id = config.channel_id
        cast = await self._memory.cast(config)
        if not cast:
            return False
        reply_persona = None
        if record.reply_to is not None:  # the store already resolved what it replies to
            replied = await self._memory.reply(record.reply_to)
            if replied is not None and replied.kind is AuthorKind.PERSONA:
                reply_persona = replied.persona_id
        address = Address(bot_mentioned=mentions_bot, reply_to_persona=reply_persona)
        persona_id = addressed_persona(record.text, address, cast) or persona_hint
        state = self._stage.scene(channel_id)
        wait = self._rules.proxy_wait_seconds if state.proxies_seen else 0.0
        if record.author_id is None:
            # A proxy deletes the original right after posting; let that deletion land.
            wait = min(PROXY_SETTLE_SECONDS, self._rules.proxy_wait_seconds)
        wait = max(wait, pause)
        budget = self._rules.persona_turn_budget
        if persona_id is not None or mentions_bot:
            trigger = Trigger(TriggerKind.ADDRESSED, persona_id, chain_left=budget)
            self._scheduler.trigger(channel_id, trigger, delay=wait)
            return True
        if config.reply_mode == "auto":
            lull = self._rules.lull_seconds if config.lull_seconds is None else config.lull_seconds
            trigger = Trigger(TriggerKind.LULL, None, chain_left=budget)
            self._scheduler.trigger(channel_id, trigger, delay=max(lull, wait))
            return True
        return False

    async def typing(self, channel_id: int) -> None:
        """A player is typing: an automatic reply waits for them."""
        config = await self._memory.channel(channel_id)
        if config is None or not config.enabled:
            return
        lull = self._rules.lull_seconds if config.lull_seconds is None else config.lull_seconds
        self._scheduler.postpone(channel_id, lull)

    async def edited(self, discord_id: int, text: str) -> None:
        """A player edited a line: memory follows."""
        await self._memory.edit_line(discord_id, text)

    async def deleted(self, channel_id: int, discord_id: int) -> None:
        """A message was deleted in Discord: forget what it showed, and only that."""
        state = self._stage.scene(channel_id)
        life = state.speaking
        if life is not None and life.retired(discord_id):
            return
        if life is not None and life.shows(discord_id):
            life.part_deleted(discord_id)
            return
        record = await self._memory.known(discord_id)
        if record is None:
            return
        ids = record.discord_ids
        last = state.last_reply
        if record.kind is AuthorKind.PERSONA and len(ids) > 1:
            index = ids.index(discord_id)
            parts = list(self._memory.parts(record.id))
            if len(parts) != len(ids):
                parts = split_like_discord(record.text, len(ids), record.author_name)
            remaining = [i for i in ids if i != discord_id]
            kept = [part for position, part in enumerate(parts) if position != index]
            await self._memory.keep_parts(record, kept, remaining)
            if last is not None and last.reply_id == record.id:
                last.message_ids = tuple(remaining)
            return
        await self._memory.forget_line(discord_id)
        if last is not None and last.reply_id == record.id:
            self._stage.forget_last_reply(channel_id)

    # ---- one turn ----------------------------------------------------------------------------

    async def take_turn(self, channel_id: int, trigger: Trigger) -> None:
        """The scheduler's turn: one persona answers, maybe calling on another."""
        async with self._leases.exclusive(channel_id):
            await self._turn(channel_id, trigger)

    async def _turn(self, channel_id: int, trigger: Trigger) -> None:
        memory = self._memory
        config = await memory.channel(channel_id)
        if config is None or not config.enabled or not self._stage.port.is_available(channel_id):
            return
        if trigger.kind is not TriggerKind.CHAIN and await memory.unanswered(channel_id) is None:
            return  # the newest line is answered already (e.g. another process gave it)
        cast = await memory.cast(config)
        if await self._ratings.hold(channel_id, config.guild_id, cast):
            return  # an adult persona in a channel that is not age-restricted: paused
        persona = self._speaker(cast, trigger, await memory.recent_speakers(channel_id))
        if persona is None:
            return
        state = self._stage.scene(channel_id)
        human_lines = state.human_lines
        turn = await self._builder.prepare(config, cast, persona)
        if await self._stage.over_budget(channel_id, turn.guild_id, turn.user_id):
            return
        outcome = await self._stage.speak(turn)
        if not outcome.complete or trigger.chain_left <= 0 or state.human_lines != human_lines:
            return  # a player wrote meanwhile: their turn comes first
        follower = next_in_chain(outcome.text, persona.id, cast, trigger.chain_left)
        if follower is not None:
            chained = Trigger(TriggerKind.CHAIN, follower, chain_left=trigger.chain_left - 1)
            self._scheduler.trigger(channel_id, chained, delay=CHAIN_DELAY)

    @staticmethod
    def _speaker(
        cast: Sequence[Persona], trigger: Trigger, recent: Sequence[str]
    ) -> Persona | None:
        persona_id = trigger.persona_id or choose_speaker(cast, recent)
        return next((p for p in cast if p.id == persona_id), None)


def split_like_discord(text: str, count: int, persona_name: str) -> list[str]:
    """A reply's text cut into `count` parts the way its messages showed it.

    Used when this process did not write the reply: the text is split again at Discord's
    limit, or at that limit less the persona-name header the bot's own account adds. If no
    split gives `count` parts, the last part carries the rest.
    """
    header = len(persona_name) * 2 + 8  # "**name**\n" with every character escaped, at worst
    for limit in (DISCORD_LIMIT, DISCORD_LIMIT - len(persona_name) - 5, DISCORD_LIMIT - header):
        parts = split_for_discord(text, limit=limit)
        if len(parts) == count:
            return parts
    parts = split_for_discord(text, limit=DISCORD_LIMIT)[:count]
    return parts + [""] * (count - len(parts))
