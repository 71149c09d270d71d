"""The stage: each channel's live state and the one place a persona's reply is spoken."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.budget import budget_refusal
from bot.engine.folding import Folding
from bot.engine.memory import SceneMemory
from bot.engine.port import ScenePort
from bot.engine.reply import ReplyKind, ReplyLife, ReplyOutcome, StopReason
from bot.engine.speech import ModelSpeech
from bot.engine.types import PreparedTurn
from bot.errors import ALERT_TEXT, AdminAlert, admin_alert_for
from bot.memory import MessageRecord
from bot.metrics import MetricsSink
from bot.models import Persona

log = logging.getLogger(__name__)

BUDGET_NOTICE_SECONDS = 300.0


@dataclass
class LastReply:
    """The newest reply of a channel and the messages showing it (they carry the buttons)."""

    reply_id: int
    persona: Persona
    message_ids: tuple[int, ...]


@dataclass
class SceneState:
    """What the runtime keeps about one channel between events (never persisted)."""

    speaking: ReplyLife | None = None
    last_reply: LastReply | None = None
    human_lines: int = 0
    """Player lines seen; a chain of persona replies stops when this moves."""
    heard_at: float | None = None
    """When the newest player line's event reached the bot (monotonic), until a turn uses it."""
    proxies_seen: bool = False
    last_line_at: dict[int, float] = field(default_factory=dict)
    flood_noticed: dict[int, float] = field(default_factory=dict)
    budget_noticed: dict[str, float] = field(default_factory=dict)


class Stage:
    """Per-channel state, the Discord port, and speaking a reply from start to end."""

    def __init__(
        self,
        memory: SceneMemory,
        speech: ModelSpeech,
        folding: Folding,
        *,
        metrics: MetricsSink,
        clock: Any = time.monotonic,
    ) -> None:
        self.memory = memory
        self.metrics = metrics
        self.speech = speech
        self.folding = folding
        self.clock = clock
        self._port: ScenePort | None = None
        self._scenes: dict[int, SceneState] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._alerting: set[tuple[int, str]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def port(self) -> ScenePort:
        """The Discord port; the wiring attaches it before any event arrives."""
        if self._port is None:
            raise RuntimeError("the scene runtime has no Discord port attached")
        return self._port

    def attach(self, port: ScenePort) -> None:
        """Connect the Discord side."""
        self._port = port

    @property
    def attached(self) -> bool:
        """Whether the Discord side is connected (runtimes used offline have none)."""
        return self._port is not None

    def scene(self, channel_id: int) -> SceneState:
        """The live state of a channel (created on first use)."""
        state = self._scenes.get(channel_id)
        if state is None:
            state = self._scenes[channel_id] = SceneState()
        return state

    def speaking(self) -> list[ReplyLife]:
        """Every reply being written right now."""
        return [s.speaking for s in self._scenes.values() if s.speaking is not None]

    def is_speaking(self, channel_id: int) -> bool:
        """Whether a reply is being written in the channel."""
        state = self._scenes.get(channel_id)
        return state is not None and state.speaking is not None

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run background work, keeping a reference and logging its failure."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task failed", exc_info=task.exception())

    async def speak(
        self,
        turn: PreparedTurn,
        kind: ReplyKind = ReplyKind.NEW,
        *,
        record: MessageRecord | None = None,
        reuse: Sequence[int] = (),
    ) -> ReplyOutcome:
        """Speak one reply of `turn.persona` in its channel, from first token to final look."""
        channel_id = turn.channel_id
        port = self.port
        state = self.scene(channel_id)
        outlet = port.open_reply(channel_id, turn.persona, message_ids=reuse)
        heard_at, state.heard_at = state.heard_at, None
        life = ReplyLife(
            turn=turn,
            kind=kind,
            outlet=outlet,
            memory=self.memory,
            events=lambda: self.speech.stream(turn),
            account=self.speech.account,
            notify=lambda text: port.notice(channel_id, text),
            record=record,
            metrics=self.metrics,
            heard_at=heard_at if kind is ReplyKind.NEW else None,
        )
        state.speaking = life
        self._idle.clear()
        try:
            outcome = await life.run()
        finally:
            if state.speaking is life:
                state.speaking = None
            if not self.speaking():
                self._idle.set()
        self.metrics.reply_finished(outcome.label)
        await self._after(turn, outcome)
        return outcome

    async def _after(self, turn: PreparedTurn, outcome: ReplyOutcome) -> None:
        """Move the buttons to the newest reply, fold old history, tell admins what only they
        can fix.
        """
        channel_id = turn.channel_id
        if outcome.reply_id is not None and outcome.shown.message_ids:
            await self.now_showing(
                channel_id, outcome.reply_id, turn.persona, outcome.shown.message_ids
            )
        if outcome.complete:
            self.folding.after_reply(channel_id, turn.prompt.dropped_history)
        alert = admin_alert_for(outcome.error) if outcome.error is not None else None
        if alert is not None and turn.guild_id is not None:
            self.spawn(self.alert(turn.guild_id, alert, channel_id))

    async def now_showing(
        self, channel_id: int, reply_id: int, persona: Persona, message_ids: Sequence[int]
    ) -> None:
        """`reply_id` is the channel's newest reply: only it keeps its buttons."""
        state = self.scene(channel_id)
        previous = state.last_reply or await self._remembered(channel_id, before=reply_id)
        state.last_reply = LastReply(reply_id, persona, tuple(message_ids))
        if previous is None or previous.reply_id == reply_id or not previous.message_ids:
            return
        self.spawn(
            self.port.retire_controls(channel_id, previous.persona, previous.message_ids[-1])
        )

    async def _remembered(self, channel_id: int, *, before: int) -> LastReply | None:
        """The previous reply as memory knows it (after a restart nothing is cached)."""
        reply_id = await self.memory.newest_reply_id(channel_id, before=before)
        record = None if reply_id is None else await self.memory.reply(reply_id)
        if record is None or not record.discord_ids or record.persona_id is None:
            return None
        return LastReply(record.id, await self.persona_of(record), record.discord_ids)

    async def persona_of(self, record: MessageRecord) -> Persona:
        """The persona who wrote a stored reply (a stand-in if its card is gone)."""
        persona = await self.memory.personas.get(record.guild_id, record.persona_id or "")
        return persona or Persona(id=record.persona_id or "persona", name=record.author_name)

    def forget_last_reply(self, channel_id: int) -> None:
        """The newest reply left memory (wipe, rewind, deletion)."""
        state = self._scenes.get(channel_id)
        if state is not None:
            state.last_reply = None

    async def over_budget(self, channel_id: int, guild_id: int | None, user_id: int | None) -> bool:
        """Whether the daily budget forbids a reply; says so in the channel, not too often."""
        if guild_id is None:
            return False
        settings = await self.memory.guild_settings(guild_id)
        refusal = await budget_refusal(self.memory.store, settings, user_id, now=time.time())
        if refusal is None:
            return False
        self.metrics.reply_finished("over_budget")
        state = self.scene(channel_id)
        now = self.clock()
        if now - state.budget_noticed.get(refusal, -BUDGET_NOTICE_SECONDS) >= BUDGET_NOTICE_SECONDS:
            state.budget_noticed[refusal] = now
            await self.port.notice(channel_id, refusal)
        return True

    async def alert(self, guild_id: int, alert: AdminAlert, channel_id: int) -> None:
        """Tell a guild's admins about a problem only they can fix, once per guild (several
        replies meeting the problem at once send one message).
        """
        key = (guild_id, alert.value)
        if key in self._alerting:
            return
        self._alerting.add(key)
        try:
            settings = await self.memory.guild_settings(guild_id)
            if alert.value in settings.admin_notified:
                return
            text = ALERT_TEXT[alert].format(channel=f"<#{channel_id}>")
            if await self.port.tell_admins(guild_id, text, settings.log_channel_id):
                notified = settings.admin_notified | {alert.value}
                await self.memory.save_guild_settings(
                    dataclasses.replace(settings, admin_notified=notified)
                )
        finally:
            self._alerting.discard(key)

    def stop_all(self, reason: StopReason) -> None:
        """Ask every reply being written to stop."""
        for life in self.speaking():
            life.stop(reason)

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no reply is being written; False if some still are after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Cancel background work (button sweeps, notices, alerts)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
