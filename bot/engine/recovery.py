"""After a restart: finish what a crash left streaming, read back what was missed, answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.engine.conversation import Conversation
from bot.engine.leases import TurnLeases
from bot.engine.port import Controls, Ending, Look, PortError
from bot.engine.stage import Stage
from bot.memory import MessageRecord
from bot.models import AuthorKind, ReplyStatus

log = logging.getLogger(__name__)

RESTART_NOTE = "✂️ Interrupted: the bot restarted before this reply finished. Press Retry."


class Recovery:
    """Brings every scene this process serves back in step with Discord."""

    def __init__(self, stage: Stage, conversation: Conversation, leases: TurnLeases) -> None:
        self._stage = stage
        self._memory = stage.memory
        self._conversation = conversation
        self._leases = leases

    async def recover(
        self,
        *,
        reconcile: bool = True,
        warm: Callable[[int], Awaitable[object]] | None = None,
    ) -> None:
        """Bring every served scene back in step: settle unfinished replies (on start only),
        read back missed lines, answer where an answer is due, and load what turns read.
        """
        channel_ids = await self.served_scenes()
        if reconcile:
            await self.reconcile(channel_ids)
        mentioned = await self.backfill(channel_ids)
        await self.answer_due(channel_ids, mentioned=mentioned)
        if warm is not None:
            for channel_id in channel_ids:
                await warm(channel_id)

    async def served_scenes(self) -> list[int]:
        """Enabled scene channels whose guilds this process serves."""
        port = self._stage.port
        configs = await self._memory.store.list_enabled_channels()
        return [c.channel_id for c in configs if port.is_available(c.channel_id)]

    async def reconcile(self, channel_ids: Sequence[int]) -> int:
        """Replies a crash left streaming become interrupted, in memory and in Discord.

        Their messages get the interrupted look (paced like any edit; deleted ones are
        skipped), and the line each was answering counts as unanswered again. Returns how many
        replies were settled. Replies this process is still writing are left alone, and so
        are channels another process holds (its own replies are alive).
        """
        alive = {life.reply_id for life in self._stage.speaking()}
        rows = [r for r in await self._memory.unfinished_replies(channel_ids) if r.id not in alive]
        settled = 0
        for record in rows:
            if not await self._leases.try_exclusive(record.channel_id):
                continue
            try:
                await self._settle(record)
                settled += 1
            finally:
                await self._leases.release(record.channel_id)
        if settled:
            log.info("Settled %d replies left unfinished by the last run", settled)
        return settled

    async def _settle(self, record: MessageRecord) -> None:
        text = record.text.strip()
        ids: Sequence[int] = record.discord_ids
        if ids:
            persona = await self._stage.persona_of(record)
            outlet = self._stage.port.open_reply(record.channel_id, persona, message_ids=ids)
            controls = Controls(record.id, record.swipe_index, record.swipe_count)
            try:
                # Memory saves progress when messages are added, not on every edit: what
                # players last saw is in Discord, so that is what the reply keeps.
                shown = await outlet.read_back()
                text, ids = shown.text or text, shown.message_ids
                look = Look.INTERRUPTED if text else Look.FAILED
                ids = (await outlet.settle(Ending(text, look, RESTART_NOTE, controls))).message_ids
            except PortError as error:
                log.warning(
                    "Could not mark reply %s (messages %s) in channel %s interrupted: %s",
                    record.id,
                    list(ids),
                    record.channel_id,
                    error,
                )
        status = ReplyStatus.INTERRUPTED if text else ReplyStatus.FAILED
        await self._memory.finish_reply(record.id, text, status, ids)

    async def backfill(self, channel_ids: Sequence[int]) -> set[int]:
        """Store what players wrote while the bot was away (bounded per channel), in order.

        Returns the memory ids of lines read back that mentioned the bot. The same filters as
        live messages apply (the port drops bots, our own webhooks and proxied originals); OOC
        lines are kept as OOC. A channel memory knows nothing of is not read back: there is
        no point to start from.
        """
        limit = self._memory.config.backfill_limit
        mentioned: set[int] = set()
        for channel_id in channel_ids:
            after = await self._newest_discord_id(channel_id)
            if after is None:
                continue
            try:
                missed = await self._stage.port.missed_messages(channel_id, after, limit)
            except PortError as error:
                log.warning("Could not read missed messages in channel %s: %s", channel_id, error)
                continue
            for message in missed:
                record = await self._conversation.store_line(message)
                if message.mentions_bot:
                    mentioned.add(record.id)
            if missed:
                log.info("Channel %s: read back %d missed message(s)", channel_id, len(missed))
        return mentioned

    async def answer_due(self, channel_ids: Sequence[int], *, mentioned: set[int]) -> int:
        """Schedule an answer where the newest line waits for one under the channel's rules."""
        scheduled = 0
        for channel_id in channel_ids:
            config = await self._memory.channel(channel_id)
            line_id = await self._memory.unanswered(channel_id)
            if config is None or not config.enabled or line_id is None:
                continue
            record = await self._memory.reply(line_id)
            if record is None:
                continue
            hint = await self._interrupted_speaker(channel_id, line_id)
            if await self._conversation.schedule_answer(
                config, record, mentions_bot=record.id in mentioned, persona_hint=hint
            ):
                scheduled += 1
        return scheduled

    async def _interrupted_speaker(self, channel_id: int, line_id: int) -> str | None:
        """The persona whose answer to `line_id` was cut off: the line was due an answer."""
        window = await self._memory.window(channel_id)
        for row_id, line in window.rows:
            if row_id > line_id and line.kind is AuthorKind.PERSONA:
                return line.persona_id
        return None

    async def _newest_discord_id(self, channel_id: int) -> int | None:
        """The newest Discord message memory knows in the channel (a line or a reply part)."""
        records = await self._memory.store.window(channel_id, limit=50)
        newest: int | None = None
        for record in records:
            for discord_id in record.discord_ids or (
                (record.discord_id,) if record.discord_id else ()
            ):
                newest = discord_id if newest is None else max(newest, discord_id)
        return newest
