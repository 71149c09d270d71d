"""Keeping a scene: its settings, greetings, and what game masters and players erase."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.engine.folding import Folding
from bot.engine.leases import TurnLeases
from bot.engine.port import Ending, Look, PortError
from bot.engine.reply import StopReason
from bot.engine.scheduler import TurnScheduler
from bot.engine.stage import Stage
from bot.errors import UserFacingError
from bot.memory import ChannelConfig, NotFoundError, Summary
from bot.models import Persona, PlayerSheet, ReplyStatus
from bot.prompt import resolve_macros
from bot.prompt.builder import NO_PLAYERS

log = logging.getLogger(__name__)

T = TypeVar("T")


class SceneKeeping:
    """Changes to a scene that are not a reply; each keeps every cache coherent itself."""

    def __init__(
        self, stage: Stage, folding: Folding, leases: TurnLeases, scheduler: TurnScheduler
    ) -> None:
        self._stage = stage
        self._memory = stage.memory
        self._folding = folding
        self._leases = leases
        self._scheduler = scheduler

    async def configure(self, config: ChannelConfig) -> ChannelConfig:
        """Save a scene's settings (cast, mode, setting, tuning…); the next turn uses them."""
        return await self._memory.save_channel(config)

    async def greet(self, channel_id: int, guild_id: int, persona: Persona) -> bool:
        """Post a persona's greeting and remember it as its own line; False if none was posted."""
        text = resolve_macros(persona.first_message, char=persona.name, user=NO_PLAYERS).strip()
        if not text:
            return False
        memory = self._memory
        reply_id = await memory.begin_reply(channel_id, guild_id, persona, None)
        outlet = self._stage.port.open_reply(channel_id, persona)
        try:
            shown = await outlet.settle(Ending(text, Look.COMPLETE))
        except PortError as error:
            log.warning("Could not post %s's greeting in %s: %s", persona.id, channel_id, error)
            await memory.drop_reply(reply_id)
            return False
        await memory.finish_reply(reply_id, text, ReplyStatus.COMPLETE, shown.message_ids)
        return True

    async def quietly(self, channel_id: int, work: Callable[[], Awaitable[T]]) -> T:
        """Stop the channel's reply in progress and pending turns, then run `work` between
        turns (a stopped reply still ends in its terminal look first).
        """
        life = self._stage.scene(channel_id).speaking
        if life is not None:
            life.stop(StopReason.PLAYER)
        self._scheduler.cancel(channel_id)

        async def guarded() -> T:
            # A stopped turn may have queued a persona-to-persona follow-up meanwhile.
            self._scheduler.cancel(channel_id)
            async with self._leases.exclusive(channel_id):
                return await work()

        return await self._scheduler.run_now(channel_id, guarded)

    async def end_scene(self, config: ChannelConfig) -> None:
        """Turn roleplay off in a channel once its reply in progress has ended."""

        async def turn_off() -> None:
            await self._memory.save_channel(dataclasses.replace(config, enabled=False))

        await self.quietly(config.channel_id, turn_off)

    async def erase_scene(self, channel_id: int) -> dict[str, int]:
        """Wipe a channel's memory for good (messages, summaries, pins); settings stay."""

        async def wipe() -> dict[str, int]:
            async with self._folding.held():  # no fold may save the wiped lines
                wiped = await self._memory.store.wipe_channel(channel_id)
                self._memory.channel_changed(channel_id)
            self._stage.forget_last_reply(channel_id)
            return wiped

        return await self.quietly(channel_id, wipe)

    async def rewind(self, channel_id: int, discord_id: int) -> int:
        """Forget everything in a scene after a Discord message; returns how many lines went."""
        memory = self._memory
        target = await memory.known(discord_id)
        if target is None or target.channel_id != channel_id:
            raise UserFacingError(
                "That message isn't in this scene's memory, so I can't rewind to it."
            )

        async def forget() -> int:
            # A fold running across the rewind could save a summary of the forgotten lines.
            async with self._folding.held():
                try:
                    forgotten = await memory.store.rewind(channel_id, discord_id)
                except NotFoundError as error:
                    raise UserFacingError(
                        "That message isn't in this scene's memory, so I can't rewind to it."
                    ) from error
                memory.channel_changed(channel_id)
            last = self._stage.scene(channel_id).last_reply
            if last is not None and await memory.reply(last.reply_id) is None:
                self._stage.forget_last_reply(channel_id)
            return forgotten

        return await self.quietly(channel_id, forget)

    async def forget_player(self, user_id: int) -> dict[str, int]:
        """Erase everything stored about a player, everywhere, and every summary built on it."""
        async with self._folding.held():
            erased = await self._memory.store.forget_user(user_id)
            self._memory.player_forgotten(user_id)
        log.info("Forgot user data on request: %s", erased)
        return erased

    def forgotten_elsewhere(self, user_id: int | None) -> None:
        """Another process forgot a player (None: maybe any): drop what this one holds of them.

        Running folds are cancelled, since they may be summarising those lines or a summary
        the erase took; one that finishes first is refused by the store (`Store.save_fold`).
        """
        self._folding.cancel_soon()
        self._memory.player_forgotten(user_id)
        log.info("A player was forgotten by another process; their cached lines were dropped")

    async def save_sheet(self, sheet: PlayerSheet, guild_id: int | None) -> None:
        """Store a player's character sheet; the next reply knows them by it."""
        await self._memory.save_sheet(sheet, guild_id)

    async def clear_sheet(self, user_id: int, guild_id: int | None) -> bool:
        """Remove a player's sheet; False if there was none."""
        return await self._memory.clear_sheet(user_id, guild_id)

    async def save_summary(self, channel_id: int, text: str, author_id: int) -> Summary:
        """A game master rewrote the summary; the next reply reads it."""
        store = self._memory.store
        current = await store.get_summary(channel_id)
        # A hand-written first summary covers nothing yet, so no history drops out of the prompt.
        covers_until = current.covers_until if current else 0
        saved = await store.save_summary(channel_id, None, text, covers_until, author_id=author_id)
        self._memory.channel_changed(channel_id)
        return saved

    async def rollback_summary(self, channel_id: int) -> Summary | None:
        """Go back to the previous summary version (None: there was none)."""
        previous = await self._memory.store.rollback_summary(channel_id)
        self._memory.channel_changed(channel_id)
        return previous

    async def add_pin(self, channel_id: int, text: str, author_id: int) -> int:
        """Pin a fact every reply in the scene keeps in mind."""
        pin_id = await self._memory.store.add_pin(channel_id, text, author_id)
        self._memory.channel_changed(channel_id)
        return pin_id

    async def remove_pin(self, channel_id: int, pin_id: int) -> bool:
        """Unpin a fact; False if the scene has no such pin."""
        removed = await self._memory.store.remove_pin(channel_id, pin_id)
        self._memory.channel_changed(channel_id)
        return removed
