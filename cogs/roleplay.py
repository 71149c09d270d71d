"""The Roleplay cog: listens to scene channels, decides who speaks, streams replies."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.director import Address, addressed_persona, choose_speaker, next_in_chain
from bot.engine import PreparedTurn
from bot.errors import AdminAlert
from bot.memory import ChannelConfig, MessageRecord, NewMessage
from bot.models import AuthorKind, Persona
from bot.text import is_ooc
from bot.turns import Trigger, TriggerKind, TurnScheduler
from bot.ui.controls import ReplyButton
from bot.ui.convert import display_name, plain_text, reply_target_id
from bot.ui.notify import notify_admins
from bot.ui.reply_actions import ReplyActions
from bot.ui.streaming import StreamingReply, StreamOutcome
from bot.ui.targets import (
    ReplyTarget,
)
from bot.ui.voice import LastReply, PersonaVoice

if TYPE_CHECKING:
    from bot.bot import RoleplayBot

log = logging.getLogger(__name__)

FLOOD_NOTICE_SECONDS = 8.0
PROXY_SETTLE_SECONDS = 0.25
BUDGET_NOTICE_SECONDS = 300.0


@dataclass
class _LastReply:
    reply_id: int
    target: ReplyTarget
    message_ids: list[int]


class Roleplay(commands.Cog):
    """Scene channels: store every message, answer when addressed or after a lull."""

    def __init__(self, bot: RoleplayBot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.engine = bot.services.engine
        self.pacer = bot.services.pacer
        self.scheduler = TurnScheduler(self._run_turn)
        self.voice = PersonaVoice(
            bot,
            self.engine,
            self.pacer,
            self.settings,
            spawn=self._spawn,
            tell_admins=self._tell_admins,
        )
        self.actions = ReplyActions(self.voice, self.scheduler)
        self.proxy_channels: set[int] = set()
        self._last_message_at: dict[tuple[int, int], float] = {}
        self._flood_warned: dict[tuple[int, int], float] = {}
        self._human_seq: dict[int, int] = {}
        self._budget_noticed: dict[tuple[int, str], float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def cog_load(self) -> None:
        """Register the persistent reply buttons."""
        self.bot.add_dynamic_items(ReplyButton)

    async def cog_unload(self) -> None:
        """Stop scheduling turns; running streams are stopped and finalised."""
        self.voice.stop_all()
        await self.scheduler.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        """Run background work, keeping a reference and logging its failure."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task failed", exc_info=task.exception())

    # ---- listening ---------------------------------------------------------------------------

    def _should_ignore(self, message: discord.Message) -> bool:
        me = self.bot.user
        if message.guild is None or me is None or message.author.id == me.id:
            return True
        if message.webhook_id is not None:
            # Ours if this process made or found it, or if our application owns it (another
            # process of ours, sharing the guild during a shard move, posted through it).
            hooks = self.voice.webhooks
            if (
                message.application_id is not None
                and message.application_id == self.bot.application_id
            ):
                hooks.known_ids.add(message.webhook_id)
            return hooks.is_own(message.webhook_id)
        if message.author.bot and message.author.id not in self.settings.bot_allowlist:
            return True
        return message.type not in (discord.MessageType.default, discord.MessageType.reply)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Store every scene message and schedule a reply when one is due."""
        if self._should_ignore(message):
            return
        channel_id = message.channel.id
        config = await self.engine.channel(channel_id)
        if config is None or not config.enabled:
            return
        text = plain_text(message)
        if not text:
            return
        is_proxy = message.webhook_id is not None
        if is_proxy:
            self.proxy_channels.add(channel_id)
        ooc = is_ooc(text)
        record = await self.engine.remember(
            NewMessage(
                channel_id=channel_id,
                guild_id=message.guild.id if message.guild else None,
                discord_id=message.id,
                author_id=None if is_proxy else message.author.id,
                author_name=display_name(message.author),
                kind=AuthorKind.HUMAN,
                text=text,
                reply_to_discord_id=reply_target_id(message),
                created_at=message.created_at.timestamp(),
                ooc=ooc,
            )
        )
        if ooc:
            return
        self._human_seq[channel_id] = self._human_seq.get(channel_id, 0) + 1
        self.scheduler.cancel_kind(channel_id, TriggerKind.CHAIN)
        if not is_proxy and self._flooding(message):
            return
        await self._schedule(message, text, record, config)

    def _flooding(self, message: discord.Message) -> bool:
        """Slow down a player writing faster than the cooldown; says so once, kindly."""
        cooldown = self.settings.user_cooldown_seconds
        if cooldown <= 0:
            return False
        key = (message.channel.id, message.author.id)
        now = time.monotonic()
        last = self._last_message_at.get(key)
        self._last_message_at[key] = now
        if last is None or now - last >= cooldown:
            return False
        if now - self._flood_warned.get(key, 0.0) > FLOOD_NOTICE_SECONDS:
            self._flood_warned[key] = now
            self._spawn(self._flood_notice(message, cooldown))
        return True

    async def _flood_notice(self, message: discord.Message, cooldown: float) -> None:
        text = (
            f"⏳ {display_name(message.author)}, you're writing faster than the scene can "
            f"follow — I kept every line and will answer once you pause (about {cooldown:g} s)."
        )
        try:
            await self.pacer.take(message.channel.id)
            await message.channel.send(text, delete_after=FLOOD_NOTICE_SECONDS, silent=True)
        except discord.HTTPException:
            log.debug("Could not post a flood notice in %s", message.channel.id)

    async def _schedule(
        self, message: discord.Message, text: str, record: MessageRecord, config: ChannelConfig
    ) -> None:
        channel_id = message.channel.id
        cast = await self.engine.cast(config)
        if not cast:
            return
        me = self.bot.user
        reply_persona = None
        if record.reply_to is not None:  # the store already resolved what it replies to
            replied = await self.engine.store.get_message(record.reply_to)
            if replied is not None and replied.kind is AuthorKind.PERSONA:
                reply_persona = replied.persona_id
        mentioned = me is not None and any(u.id == me.id for u in message.mentions)
        address = Address(bot_mentioned=mentioned, reply_to_persona=reply_persona)
        persona_id = addressed_persona(text, address, cast)
        wait = self.settings.proxy_wait_seconds if channel_id in self.proxy_channels else 0.0
        if message.webhook_id is not None:
            # The proxy deletes the original right after posting; let that deletion land.
            wait = min(PROXY_SETTLE_SECONDS, self.settings.proxy_wait_seconds)
        budget = self.settings.persona_turn_budget
        if persona_id is not None or mentioned:
            trigger = Trigger(TriggerKind.ADDRESSED, persona_id, chain_left=budget)
            self.scheduler.trigger(channel_id, trigger, delay=wait)
        elif config.reply_mode == "auto":
            lull = config.lull_seconds
            lull = self.settings.lull_seconds if lull is None else lull
            trigger = Trigger(TriggerKind.LULL, None, chain_left=budget)
            self.scheduler.trigger(channel_id, trigger, delay=max(lull, wait))

    @commands.Cog.listener()
    async def on_typing(
        self, channel: discord.abc.Messageable, user: discord.abc.User, when: Any
    ) -> None:
        """A player typing holds back an automatic reply."""
        if user.bot or not hasattr(channel, "id"):
            return
        config = await self.engine.channel(channel.id)
        if config is None or not config.enabled:
            return
        lull = config.lull_seconds
        self.scheduler.postpone(channel.id, self.settings.lull_seconds if lull is None else lull)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Remember edits players make to scene messages."""
        message = payload.message
        if message.author.bot and message.webhook_id is None:
            return
        if message.webhook_id is not None and self._should_ignore(message):
            return
        await self.engine.message_edited(payload.message_id, plain_text(message))

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """Forget deleted messages; a deleted streaming reply ends its stream."""
        await self.engine.message_deleted(payload.message_id)

    # ---- one turn ----------------------------------------------------------------------------

    async def _run_turn(self, channel_id: int, trigger: Trigger) -> None:
        async with self.engine.exclusive_turn(channel_id):
            await self._take_turn(channel_id, trigger)

    async def _take_turn(self, channel_id: int, trigger: Trigger) -> None:
        config = await self.engine.channel(channel_id)
        channel = self.bot.get_channel(channel_id)
        if config is None or not config.enabled or channel is None:
            return
        if trigger.kind is not TriggerKind.CHAIN and not await self.engine.needs_answer(channel_id):
            return  # the newest line is already a reply (e.g. another process gave it)
        cast = await self.engine.cast(config)
        persona_id = trigger.persona_id
        if persona_id is None:
            persona_id = choose_speaker(cast, await self.engine.recent_speakers(channel_id))
        if persona_id is None:
            return
        human_seq = self._human_seq.get(channel_id, 0)
        turn = await self.engine.prepare(channel_id, persona_id)
        if turn is None:
            return
        if await self._over_budget(channel, turn):
            return
        outcome = await self.voice.speak(channel, turn)
        if outcome is None or not outcome.complete or trigger.chain_left <= 0:
            return
        if self._human_seq.get(channel_id, 0) != human_seq:
            return  # a human wrote meanwhile: their turn comes first
        follower = next_in_chain(outcome.text, persona_id, cast, trigger.chain_left)
        if follower is not None:
            chained = Trigger(TriggerKind.CHAIN, follower, chain_left=trigger.chain_left - 1)
            self.scheduler.trigger(channel_id, chained, delay=0.5)

    async def _over_budget(self, channel: Any, turn: PreparedTurn) -> bool:
        refusal = await self.engine.budget_refusal(turn.guild_id, turn.user_id)
        if refusal is None:
            return False
        key = (channel.id, refusal)
        now = time.monotonic()
        if now - self._budget_noticed.get(key, -BUDGET_NOTICE_SECONDS) < BUDGET_NOTICE_SECONDS:
            return True  # said so recently: stay quiet rather than repeat it on every message
        self._budget_noticed[key] = now
        try:
            await self.pacer.take(channel.id)
            await channel.send(refusal, silent=True)
        except discord.HTTPException:
            log.warning("Could not post a budget notice in %s", channel.id)
        return True

    async def _tell_admins(self, guild: discord.Guild, alert: AdminAlert, channel: Any) -> None:
        await notify_admins(self.bot, self.engine.store, guild, alert, channel)

    # ---- what other cogs and the buttons use -------------------------------------------------

    @property
    def streams(self) -> dict[int, StreamingReply]:
        """Replies being streamed, by channel id."""
        return self.voice.streams

    @property
    def last_reply(self) -> dict[int, LastReply]:
        """The newest reply of each channel."""
        return self.voice.last_reply

    async def target_for(self, channel: Any, persona: Persona) -> ReplyTarget:
        """Where `persona` speaks in `channel` (its webhook, else the bot's account)."""
        return await self.voice.target_for(channel, persona)

    async def on_reply_action(
        self, interaction: discord.Interaction[Any], action: str, reply_id: int
    ) -> None:
        """Handle a press of one of the reply buttons."""
        await self.actions.on_reply_action(interaction, action, reply_id)

    async def regenerate(self, channel: Any, record: MessageRecord) -> StreamOutcome | None:
        """Write a reply again, as a new alternative."""
        return await self.actions.regenerate(channel, record)

    async def continue_reply(self, channel: Any, record: MessageRecord) -> StreamOutcome | None:
        """Let a reply cut off at the length cap carry on."""
        return await self.actions.continue_reply(channel, record)


async def setup(bot: RoleplayBot) -> None:
    """Load the Roleplay cog."""
    await bot.add_cog(Roleplay(bot))
