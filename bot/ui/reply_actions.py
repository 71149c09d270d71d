"""The reply buttons' work: regenerate, flip alternatives, continue, stop, retry."""

from __future__ import annotations

from typing import Any

import discord

from bot.memory import MessageRecord
from bot.models import Persona, ReplyStatus
from bot.text import split_for_discord
from bot.turns import TurnScheduler
from bot.ui.controls import reply_controls
from bot.ui.streaming import StreamOutcome
from bot.ui.voice import LastReply, PersonaVoice


class ReplyActions:
    """Changes the newest reply of a channel, always as that channel's turn."""

    def __init__(self, voice: PersonaVoice, scheduler: TurnScheduler) -> None:
        self.voice = voice
        self.engine = voice.engine
        self.pacer = voice.pacer
        self.settings = voice.settings
        self.scheduler = scheduler

    async def on_reply_action(
        self, interaction: discord.Interaction[Any], action: str, reply_id: int
    ) -> None:
        """Regenerate, flip, continue, stop or retry a reply from its buttons."""
        channel = interaction.channel
        record = await self.engine.store.get_message(reply_id)
        if channel is None or record is None or record.channel_id != channel.id:
            await interaction.response.send_message(
                "That reply is no longer in this scene's memory.", ephemeral=True
            )
            return
        if action == "stop":
            stream = self.voice.streams.get(channel.id)
            if stream is not None:
                stream.stop()
            await interaction.response.defer()
            return
        if channel.id in self.voice.streams:
            await interaction.response.send_message(
                "A persona is speaking right now — try again when it finishes.", ephemeral=True
            )
            return
        if await self.engine.has_later_reply(channel.id, record.id):
            await interaction.response.send_message(
                "Only the newest reply can be changed; this one is part of the story now.",
                ephemeral=True,
            )
            return
        await interaction.response.defer()
        if action in ("prev", "next"):
            await self.flip(channel, record, -1 if action == "prev" else 1)
        elif action in ("regen", "retry"):
            await self.regenerate(channel, record)
        elif action == "cont":
            await self.continue_reply(channel, record)

    async def regenerate(self, channel: Any, record: MessageRecord) -> StreamOutcome | None:
        """Generate a new alternative for a reply, shown in place of the current one."""
        return await self._rewrite(channel, record, extend=False)

    async def continue_reply(self, channel: Any, record: MessageRecord) -> StreamOutcome | None:
        """Let a reply that hit the length cap carry on where it stopped."""
        return await self._rewrite(channel, record, extend=True)

    async def _rewrite(
        self, channel: Any, record: MessageRecord, *, extend: bool
    ) -> StreamOutcome | None:
        """Regenerate or continue a stored reply in its own messages, as the channel's turn."""
        if record.persona_id is None:
            return None
        persona_id = record.persona_id

        async def run() -> StreamOutcome | None:
            fresh = await self.engine.store.get_message(record.id) or record
            if extend:
                turn = await self.engine.prepare_continuation(channel.id, fresh)
            else:
                turn = await self.engine.prepare(channel.id, persona_id, exclude_from=fresh.id)
            if turn is None:
                return None
            reuse = await self._reuse(channel, fresh)
            return await self.voice.speak(channel, turn, rewrite=fresh, extend=extend, reuse=reuse)

        return await self.scheduler.run_now(channel.id, run)

    async def flip(self, channel: Any, record: MessageRecord, step: int) -> None:
        """Show the previous or next alternative of a reply; memory follows what is shown."""
        index = record.swipe_index + step
        if not 0 <= index < record.swipe_count:
            return
        shown = await self.engine.select_alternative(record.id, index)
        reuse = await self._reuse(channel, record)
        target = reuse.target
        chunks = split_for_discord(shown.text, limit=2000 - len(target.header)) or ["…"]
        ids = list(reuse.message_ids)
        view = reply_controls(
            shown.id,
            swipe_index=shown.swipe_index,
            swipe_count=shown.swipe_count,
            can_continue=False,
            failed=shown.status is ReplyStatus.INTERRUPTED,
        )
        for position, content in enumerate(chunks):
            chunk_view = view if position == len(chunks) - 1 else None
            await self.pacer.take(channel.id, bot_token=target.bot_token)
            if position < len(ids):
                await target.edit(ids[position], content, view=chunk_view)
            else:
                ids.append(await target.send(content, view=chunk_view))
        for extra in ids[len(chunks) :]:
            await self.pacer.take(channel.id, bot_token=target.bot_token)
            await target.delete(extra)
        ids = ids[: len(chunks)]
        await self.engine.store.set_discord_ids(record.id, ids)
        self.voice.last_reply[channel.id] = LastReply(record.id, target, ids)

    async def _reuse(self, channel: Any, record: MessageRecord) -> LastReply:
        last = self.voice.last_reply.get(channel.id)
        if last is not None and last.reply_id == record.id:
            return last
        persona = None
        if record.persona_id is not None:
            persona = await self.engine.personas.get(
                channel.guild.id if channel.guild else None, record.persona_id
            )
        name = persona.name if persona else record.author_name
        if persona is None:
            persona = Persona(id=record.persona_id or "persona", name=name)
        target = await self.voice.target_for(channel, persona)
        return LastReply(record.id, target, list(record.discord_ids))
