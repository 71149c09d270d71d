"""How personas speak in Discord: their webhooks, streamed replies and reply buttons."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import discord

from bot.config import Settings
from bot.engine import Engine, PreparedTurn
from bot.errors import AdminAlert, admin_alert_for, describe_error
from bot.memory import MessageRecord, NotFoundError
from bot.models import Persona
from bot.pacing import EditPacer
from bot.ui.controls import reply_controls, streaming_controls
from bot.ui.streaming import StreamingReply, StreamOutcome
from bot.ui.targets import (
    ChannelTarget,
    DeferredTarget,
    PersonaWebhooks,
    ReplyTarget,
    WebhookTarget,
)

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, Any]], None]
TellAdmins = Callable[[discord.Guild, AdminAlert, Any], Coroutine[Any, Any, None]]


@dataclass
class LastReply:
    """The newest reply of a channel: where it was posted and which messages show it."""

    reply_id: int
    target: ReplyTarget
    message_ids: list[int]


class PersonaVoice:
    """Posts persona replies: per-persona webhooks, paced streaming, buttons on the newest."""

    def __init__(
        self,
        client: discord.Client,
        engine: Engine,
        pacer: EditPacer,
        settings: Settings,
        *,
        spawn: Spawn,
        tell_admins: TellAdmins,
    ) -> None:
        self.client = client
        self.engine = engine
        self.pacer = pacer
        self.settings = settings
        self._spawn = spawn
        self._tell_admins = tell_admins
        self.streams: dict[int, StreamingReply] = {}
        self.last_reply: dict[int, LastReply] = {}
        self._stale_buttons: dict[int, list[tuple[ReplyTarget, int]]] = {}
        self._webhooks: PersonaWebhooks | None = None

    @property
    def webhooks(self) -> PersonaWebhooks:
        """The persona webhooks this process knows (made once the bot user is known)."""
        if self._webhooks is None:
            assert self.client.user is not None
            self._webhooks = PersonaWebhooks(self.client.user.id)
        return self._webhooks

    def stop_all(self) -> None:
        """Stop every reply being streamed (shutdown)."""
        for stream in list(self.streams.values()):
            stream.stop()

    async def target_for(self, channel: Any, persona: Persona) -> ReplyTarget:
        """The persona's webhook in this channel, or the bot account as a fallback."""
        parent = channel.parent if isinstance(channel, discord.Thread) else channel
        thread = channel if isinstance(channel, discord.Thread) else None
        if isinstance(parent, discord.TextChannel):
            hooks = self.webhooks
            try:
                webhook = await hooks.get(parent, persona)
            except discord.HTTPException as error:  # Discord hiccup: speak as the bot this time
                log.warning("Webhook lookup failed in %s: %s", parent.id, error)
                return ChannelTarget(channel, persona.name)
            if webhook is not None:

                async def refresh() -> discord.Webhook | None:
                    hooks.forget(parent.id, persona.id)
                    return await hooks.get(parent, persona)

                return WebhookTarget(
                    webhook,
                    username=persona.name,
                    avatar_url=persona.avatar_url,
                    thread=thread,
                    refresh=refresh,
                )
            if channel.guild is not None:
                self._spawn(self._tell_admins(channel.guild, AdminAlert.WEBHOOKS, channel))
        return ChannelTarget(channel, persona.name)

    async def speak(
        self,
        channel: Any,
        turn: PreparedTurn,
        *,
        rewrite: MessageRecord | None = None,
        extend: bool = False,
        reuse: LastReply | None = None,
    ) -> StreamOutcome | None:
        """Stream one persona reply into the channel and store it; returns what happened.

        With `rewrite`, that stored reply changes in its existing messages (`reuse`): it gets a
        new alternative (regenerate) or, with `extend`, carries on where it stopped (continue).
        """
        channel_id = channel.id
        target: ReplyTarget
        if reuse is not None:
            target = reuse.target
        else:  # the webhook lookup runs while the model request is in flight
            target = DeferredTarget(self.target_for(channel, turn.persona))
        initial_text = ""
        # The reply's memory row is written while the model request is in flight; it exists
        # before the first text shows (the stream awaits it then), so a crash loses nothing.
        stored: asyncio.Future[int]
        if rewrite is None:
            stored = asyncio.ensure_future(self.engine.begin_reply(turn))
            swipe_index, swipe_count = 0, 1
        else:
            stored = asyncio.get_running_loop().create_future()
            stored.set_result(rewrite.id)
            if extend:
                initial_text = joinable(rewrite.text)
                swipe_index, swipe_count = rewrite.swipe_index, rewrite.swipe_count
            else:
                swipe_index, swipe_count = rewrite.swipe_count, rewrite.swipe_count + 1

        async def controls_once_stored() -> discord.ui.View:
            return streaming_controls(await stored)

        async def progress(text: str, ids: list[int]) -> None:
            if rewrite is None:  # a crash now keeps what players already saw
                await self.engine.reply_progress(await stored, text, ids)

        stream = StreamingReply(
            target,
            self.pacer,
            channel_id,
            interval=self.settings.stream_edit_interval,
            typing=channel.typing,
            streaming_view=asyncio.ensure_future(controls_once_stored()),
            final_view=lambda outcome: final_controls(
                stored.result(), swipe_index, swipe_count, outcome
            ),
            footer=footer,
            reuse_ids=reuse.message_ids if reuse else None,
            initial_text=initial_text,
            on_synced=progress,
        )
        try:
            outcome = await self.stream(channel_id, stream, turn)
        finally:
            reply_id = await stored  # raises if the row could not be written
        if outcome.deleted:
            if rewrite is None:
                await self.engine.abandon_reply(reply_id)
            return outcome
        try:
            if rewrite is None:
                record = await self.engine.finish_reply(
                    turn,
                    reply_id,
                    text=outcome.text,
                    complete=outcome.complete,
                    discord_ids=outcome.message_ids,
                    result=outcome.result,
                )
            else:
                store = self.engine.extend_reply if extend else self.engine.add_alternative
                record = await store(
                    turn,
                    reply_id,
                    text=outcome.text,
                    complete=outcome.complete,
                    result=outcome.result,
                )
                await self.engine.store.set_discord_ids(reply_id, outcome.message_ids)
        except NotFoundError:
            return outcome  # deleted in Discord while we were finishing: forgotten, as asked
        await self._retire_previous(channel, target, record.id, outcome.message_ids)
        if outcome.complete:
            self.engine.maybe_summarize(turn)
        if outcome.error is not None and channel.guild is not None:
            alert = admin_alert_for(outcome.error)
            if alert is not None:
                self._spawn(self._tell_admins(channel.guild, alert, channel))
        return outcome

    async def stream(
        self, channel_id: int, stream: StreamingReply, turn: PreparedTurn
    ) -> StreamOutcome:
        """Run `stream` on the turn's model events, registered so it can be stopped."""
        self.streams[channel_id] = stream
        try:
            return await stream.run(self.engine.stream(turn))
        finally:
            if self.streams.get(channel_id) is stream:
                del self.streams[channel_id]

    async def _retire_previous(
        self, channel: Any, target: ReplyTarget, reply_id: int, message_ids: list[int]
    ) -> None:
        """Only the newest reply carries buttons: queue the previous one's for removal."""
        channel_id = channel.id
        previous = self.last_reply.get(channel_id) or await self._remembered_reply(
            channel, before=reply_id
        )
        if message_ids:
            self.last_reply[channel_id] = LastReply(reply_id, target, list(message_ids))
        if previous is None or previous.reply_id == reply_id or not previous.message_ids:
            return
        stale = self._stale_buttons.setdefault(channel_id, [])
        stale.append((previous.target, previous.message_ids[-1]))
        if len(stale) == 1:
            self._spawn(self._sweep_buttons(channel_id))

    async def _remembered_reply(self, channel: Any, *, before: int) -> LastReply | None:
        """The previous reply as memory knows it (after a restart nothing is cached)."""
        reply_id = await self.engine.newest_reply_id(channel.id, before=before)
        record = None if reply_id is None else await self.engine.store.get_message(reply_id)
        if record is None or not record.discord_ids or record.persona_id is None:
            return None
        guild_id = channel.guild.id if getattr(channel, "guild", None) else None
        persona = await self.engine.personas.get(guild_id, record.persona_id)
        persona = persona or Persona(id=record.persona_id, name=record.author_name)
        target = DeferredTarget(self.target_for(channel, persona))
        return LastReply(record.id, target, list(record.discord_ids))

    async def _sweep_buttons(self, channel_id: int) -> None:
        """Take old buttons off with spare rate-limit slots, never delaying a reply."""
        stale = self._stale_buttons.get(channel_id, [])
        while stale:
            target, message_id = stale[0]
            try:
                await target.ready()
                await self.pacer.take_spare(channel_id, bot_token=target.bot_token)
                await target.set_view(message_id, None)
            except discord.HTTPException as error:
                log.debug("Could not remove old reply buttons: %s", error)
            stale.pop(0)
        self._stale_buttons.pop(channel_id, None)


def final_controls(
    reply_id: int, swipe_index: int, swipe_count: int, outcome: StreamOutcome
) -> discord.ui.View | None:
    """The buttons a finished reply gets (none for an empty, error-free one)."""
    if not outcome.text and outcome.error is None:
        return None
    return reply_controls(
        reply_id,
        swipe_index=swipe_index,
        swipe_count=swipe_count,
        can_continue=outcome.result is not None and outcome.result.truncated,
        failed=outcome.error is not None,
    )


def joinable(text: str) -> str:
    """The stored text of a cut-off reply, ready for more words to follow."""
    return text + " " if text and not text.endswith((" ", "\n")) else text


def footer(outcome: StreamOutcome) -> str:
    """The line under a finished reply: why it failed, or an ellipsis when it was cut off."""
    if outcome.error is not None:
        return f"\n-# ⚠️ {describe_error(outcome.error)}"
    if outcome.result is not None and outcome.result.truncated:
        return " …"
    return ""
