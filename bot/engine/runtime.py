"""The scene runtime: the one owner of every scene's turns and every reply's life.

Cogs call its intent-level operations and render the answers; Discord sits behind the
`ScenePort` the wiring attaches. Inside, small composed parts do the work:

- `SceneMemory` — the store plus caches it keeps coherent itself;
- `Conversation` — hears player lines and takes turns (addressed, lull, chain);
- `Stage` — each channel's live state and `speak`, which runs one `ReplyLife`;
- `ReplyControls` — regenerate, continue, flip, stop;
- `SceneKeeping` — settings, greetings, erasing, sheets, summaries and pins;
- `Recovery` — after a restart, settle unfinished replies and read back missed lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, TypeVar

from bot.catalog import PersonaCatalog
from bot.dice import DiceError, Roll, clean_reason, roll
from bot.engine.controls import ReplyControls
from bot.engine.conversation import Conversation
from bot.engine.folding import Folding
from bot.engine.keeping import SceneKeeping
from bot.engine.leases import TurnLeases
from bot.engine.memory import SceneMemory
from bot.engine.port import IncomingMessage, ScenePort
from bot.engine.rating_guard import RatingGuard
from bot.engine.recovery import Recovery
from bot.engine.reply import ReplyOutcome, StopReason
from bot.engine.scheduler import Trigger, TurnScheduler
from bot.engine.speech import ModelSpeech
from bot.engine.stage import Stage
from bot.engine.turns import TurnBuilder
from bot.engine.types import EngineConfig, PreparedTurn
from bot.errors import AdminAlert, UserFacingError
from bot.llm import LLMClient, SamplingParams, as_state_store
from bot.lore import Lorebook, to_storage
from bot.memory import (
    ChannelConfig,
    GuildSettings,
    LorebookScope,
    MessageRecord,
    RecallHit,
    Store,
    Summary,
)
from bot.metrics import MetricsSink, NoMetrics
from bot.models import Persona, PlayerSheet
from bot.tokens import TokenEstimator

log = logging.getLogger(__name__)

T = TypeVar("T")

BookScope = Literal["scene", "server"]
_STORED: dict[BookScope, LorebookScope] = {"scene": "scene", "server": "guild"}

SHUTDOWN_GRACE = 5.0
"""Seconds replies get to end in their interrupted look when the bot stops."""


class SceneRuntime:
    """Runs every scene: hears players, speaks personas, keeps memory and Discord in step."""

    def __init__(
        self,
        *,
        store: Store,
        llm: LLMClient,
        personas: PersonaCatalog,
        config: EngineConfig,
        estimator: TokenEstimator | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        self.store = store
        self.metrics: MetricsSink = metrics or NoMetrics()
        self.llm = llm
        self.personas = personas
        self.config = config
        # The dialect choice survives restarts in the memory's runtime state.
        llm.dialect.attach(as_state_store(store))
        estimator = estimator or TokenEstimator(key=llm.dialect.key)
        memory = SceneMemory(store=store, personas=personas, config=config, estimator=estimator)
        self.memory = memory
        self._folding = Folding(memory, llm)
        leases = TurnLeases(memory, shared=config.shared_store)
        self._builder = TurnBuilder(memory, llm.dialect)
        speech = ModelSpeech(llm, self._builder, memory, self.metrics)
        self._stage = Stage(memory, speech, self._folding, metrics=self.metrics)
        self._scheduler = TurnScheduler(self._take_turn)
        self._ratings = RatingGuard(self._stage)
        self._conversation = Conversation(
            self._stage, self._builder, leases, self._scheduler, self._ratings
        )
        self._controls = ReplyControls(
            self._stage, self._builder, leases, self._scheduler, self._ratings
        )
        self._keeping = SceneKeeping(self._stage, self._folding, leases, self._scheduler)
        self._recovery = Recovery(self._stage, self._conversation, leases)
        self._recovered = False
        self._closed = False

    def attach(self, port: ScenePort) -> None:
        """Connect the Discord side (before the gateway delivers any event)."""
        self._stage.attach(port)
        self._builder.rate_with(self._ratings.rating_line)

    async def _take_turn(self, channel_id: int, trigger: Trigger) -> None:
        if not self._closed:
            await self._conversation.take_turn(channel_id, trigger)

    # ---- what players do in a channel -------------------------------------------------------

    async def message_arrived(self, message: IncomingMessage) -> None:
        """A player wrote in a channel: store it, and answer when the scene's rules say so."""
        if not self._closed:
            await self._conversation.heard(message)

    async def message_edited(self, discord_id: int, text: str) -> None:
        """A player edited a line; memory follows."""
        await self._conversation.edited(discord_id, text)

    async def message_deleted(self, channel_id: int, discord_id: int) -> None:
        """A message was deleted in Discord: memory forgets what it showed, and only that."""
        await self._conversation.deleted(channel_id, discord_id)

    async def player_typing(self, channel_id: int) -> None:
        """A player is typing: an automatic reply waits."""
        await self._conversation.typing(channel_id)

    # ---- the newest reply --------------------------------------------------------------------

    async def regenerate(
        self, channel_id: int, reply_id: int | None = None, *, user_id: int | None = None
    ) -> ReplyOutcome:
        """Write the newest reply again (raises UserFacingError when it can't change)."""
        return await self._controls.regenerate(channel_id, reply_id, user_id=user_id)

    async def continue_reply(
        self, channel_id: int, reply_id: int | None = None, *, user_id: int | None = None
    ) -> ReplyOutcome:
        """Let the newest reply carry on where it stopped."""
        return await self._controls.continue_reply(channel_id, reply_id, user_id=user_id)

    async def flip(self, channel_id: int, reply_id: int, step: int) -> None:
        """Show the previous (-1) or next (+1) alternative of the newest reply."""
        await self._controls.flip(channel_id, reply_id, step)

    def stop(self, channel_id: int) -> bool:
        """Stop the reply being written; False if nobody is speaking."""
        return self._controls.stop(channel_id)

    async def check_changeable(self, channel_id: int, reply_id: int | None = None) -> None:
        """Raise a UserFacingError if the (newest) reply can't be changed right now."""
        await self._controls.changeable(channel_id, reply_id)

    def folding_now(self) -> frozenset[int]:
        """Channels whose old history is being folded into the summary right now."""
        return self._folding.running()

    def queued_turns(self) -> int:
        """Turns waiting to run, in every channel."""
        return self._scheduler.pending_count()

    def has_pending_turn(self, channel_id: int) -> bool:
        """Whether a turn waits to run in the channel (addressed, lull or chain)."""
        return self._scheduler.has_pending(channel_id)

    def is_busy(self, channel_id: int) -> bool:
        """Whether a turn runs or a reply is written in the channel right now."""
        return self._scheduler.is_busy(channel_id) or self._stage.is_speaking(channel_id)

    def is_speaking(self, channel_id: int) -> bool:
        """Whether a persona is writing a reply in the channel right now."""
        return self._stage.is_speaking(channel_id)

    # ---- scenes ------------------------------------------------------------------------------

    async def scene(self, channel_id: int) -> ChannelConfig | None:
        """A channel's scene settings, or None if roleplay was never set up there."""
        return await self.memory.channel(channel_id)

    async def cast(self, config: ChannelConfig) -> list[Persona]:
        """The personas seated in a scene, in cast order."""
        return await self.memory.cast(config)

    def sampling_for(self, persona: Persona, config: ChannelConfig) -> SamplingParams:
        """What a persona's next reply in a scene samples with."""
        return self._builder.sampling_for(persona, config)

    async def preview(self, channel_id: int, persona_id: str) -> PreparedTurn | None:
        """The request a persona's next reply would send now (for /debug prompt)."""
        config = await self.memory.channel(channel_id)
        if config is None:
            return None
        cast = await self.memory.cast(config)
        persona = next((p for p in cast if p.id == persona_id), None)
        persona = persona or await self.personas.get(config.guild_id, persona_id)
        if persona is None:
            return None
        return await self._builder.prepare(config, cast, persona)

    async def configure(self, config: ChannelConfig) -> ChannelConfig:
        """Save a scene's settings; the next turn uses them (and finds them loaded)."""
        saved = await self._keeping.configure(config)
        cast = await self.warm(saved.channel_id)
        if cast and self._stage.attached:
            self._stage.spawn(self._stage.port.get_ready(saved.channel_id, cast))
        return saved

    async def warm(self, channel_id: int) -> Sequence[Persona]:
        """Load what a turn in a running scene reads, ahead of its first turn; its cast."""
        config = await self.memory.warm(channel_id)
        if config is None:
            return ()
        await self._builder.context.warm(config)
        cast = await self.memory.cast(config)
        for persona in cast:
            await self._ratings.adult(config.guild_id, persona)
        return cast

    async def greet(self, channel_id: int, guild_id: int, persona: Persona) -> bool:
        """Post a persona's greeting as its own line; False if it has none or Discord refused."""
        return await self._keeping.greet(channel_id, guild_id, persona)

    async def end_scene(self, config: ChannelConfig) -> None:
        """Turn a scene off once its reply in progress has ended."""
        await self._keeping.end_scene(config)

    async def erase_scene(self, channel_id: int) -> dict[str, int]:
        """Wipe a scene's memory for good; its settings stay."""
        return await self._keeping.erase_scene(channel_id)

    async def rewind(self, channel_id: int, discord_id: int) -> int:
        """Forget everything after a message; returns how many lines went."""
        return await self._keeping.rewind(channel_id, discord_id)

    async def save_summary(self, channel_id: int, text: str, author_id: int) -> Summary:
        """Save a hand-written summary version."""
        return await self._keeping.save_summary(channel_id, text, author_id)

    async def rollback_summary(self, channel_id: int) -> Summary | None:
        """Go back one summary version."""
        return await self._keeping.rollback_summary(channel_id)

    async def add_pin(self, channel_id: int, text: str, author_id: int) -> int:
        """Pin a fact for the scene."""
        return await self._keeping.add_pin(channel_id, text, author_id)

    async def remove_pin(self, channel_id: int, pin_id: int) -> bool:
        """Unpin a fact."""
        return await self._keeping.remove_pin(channel_id, pin_id)

    async def newest_reply(self, channel_id: int) -> MessageRecord:
        """The newest persona reply of a scene (raises UserFacingError if none)."""
        return await self._controls.newest_reply(channel_id)

    # ---- lorebooks, recall, dice, ratings ----------------------------------------------------

    async def lorebook(self, scope: BookScope, owner_id: int) -> Lorebook | None:
        """A scene's (owner: channel id) or a server's (owner: guild id) lorebook."""
        return await self._builder.context.stored_book(_STORED[scope], owner_id)

    async def save_lorebook(self, scope: BookScope, owner_id: int, book: Lorebook) -> None:
        """Replace a scene's or a server's lorebook as a whole; the next turn reads it."""
        await self.store.save_lorebook(_STORED[scope], owner_id, to_storage(book))
        self._builder.context.book_changed(_STORED[scope], owner_id)

    async def delete_lorebook(self, scope: BookScope, owner_id: int) -> bool:
        """Remove a scene's or a server's lorebook; False if there was none."""
        removed = await self.store.delete_lorebook(_STORED[scope], owner_id)
        self._builder.context.book_changed(_STORED[scope], owner_id)
        return removed

    async def recall(self, channel_id: int, query: str, *, limit: int = 5) -> list[RecallHit]:
        """What the scene's older memory holds about `query` (what a persona would recall)."""
        window = await self.memory.window(channel_id)
        first = window.rows[0][0] if window.rows else None
        return await self.store.recall(channel_id, query, before_id=first, limit=limit)

    @staticmethod
    def roll_dice(expression: str, reason: str | None = None) -> tuple[Roll, str]:
        """Roll dice (raises UserFacingError for a bad expression); the roll and its reason."""
        try:
            return roll(expression), clean_reason(reason)
        except DiceError as error:
            raise UserFacingError(str(error)) from error

    async def roll_shown(
        self,
        channel_id: int,
        guild_id: int,
        user_id: int,
        name: str,
        sentence: str,
        discord_id: int,
    ) -> None:
        """A roll was posted: in a scene, memory keeps it as what happened and the scene's
        rules decide whether a persona answers (elsewhere nothing happens).
        """
        await self._conversation.heard(
            IncomingMessage(
                channel_id=channel_id,
                guild_id=guild_id,
                discord_id=discord_id,
                author_id=user_id,
                author_name=name,
                text=f"🎲 {sentence}",
                created_at=time.time(),
            )
        )

    async def seating_refusal(
        self, channel_id: int, guild_id: int, personas: Sequence[Persona]
    ) -> str | None:
        """Why these personas may not be seated in this channel (adult content), or None."""
        return await self._ratings.seating_refusal(channel_id, guild_id, personas)

    async def persona_adult(self, guild_id: int, persona: Persona) -> tuple[bool, bool | None]:
        """Whether a persona counts as for adults here, and the admin's mark if any."""
        return await self._ratings.adult(guild_id, persona), await self._ratings.override(
            guild_id, persona.id
        )

    async def set_persona_adult(self, guild_id: int, persona_id: str, adult: bool | None) -> None:
        """Mark a persona as for adults or not (None: by its card's tags)."""
        await self._ratings.set_adult(guild_id, persona_id, adult)

    async def rating_changed(self, channel_id: int) -> None:
        """A channel's age restriction changed: its scene pauses or goes on."""
        config = await self.memory.channel(channel_id)
        if config is not None and config.enabled:
            cast = await self.memory.cast(config)
            await self._ratings.rating_changed(channel_id, config.guild_id, cast)

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """A guild's settings: budgets, alert channel, game-master role."""
        return await self.memory.guild_settings(guild_id)

    async def save_guild_settings(self, settings: GuildSettings) -> GuildSettings:
        """Change a guild's settings; turns use them from now on."""
        return await self.memory.save_guild_settings(settings)

    # ---- players -----------------------------------------------------------------------------

    async def save_sheet(self, sheet: PlayerSheet, guild_id: int | None) -> None:
        """Store a player's character sheet."""
        await self._keeping.save_sheet(sheet, guild_id)

    async def clear_sheet(self, user_id: int, guild_id: int | None) -> bool:
        """Remove a player's sheet; False if there was none."""
        return await self._keeping.clear_sheet(user_id, guild_id)

    async def forget_player(self, user_id: int) -> dict[str, int]:
        """Erase everything stored about a player, everywhere."""
        return await self._keeping.forget_player(user_id)

    def forgotten_elsewhere(self, user_id: int | None) -> None:
        """Another process forgot a player: drop what this one holds of them."""
        self._keeping.forgotten_elsewhere(user_id)

    async def alert_admins(self, guild_id: int, alert: AdminAlert, channel_id: int) -> None:
        """Tell a guild's admins about a problem only they can fix (once per guild)."""
        await self._stage.alert(guild_id, alert, channel_id)

    def sheet_changed_elsewhere(self, user_id: int | None) -> None:
        """Another process changed a player's sheet: read it again."""
        self.memory.player_changed(user_id)

    # ---- start and stop ----------------------------------------------------------------------

    async def recover(self) -> None:
        """After (re)connecting: settle replies a crash left streaming (first time only), read
        back what players wrote meanwhile, and answer where an answer is due.
        """
        if self._closed:
            return
        first = not self._recovered
        self._recovered = True
        await self._recovery.recover(reconcile=first, warm=self.warm)

    async def shutdown(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop taking turns; every reply in progress ends interrupted and is stored.

        Replies get `grace` seconds to reach their terminal look; what is still running then
        is cancelled (its memory row stays streaming and the next start settles it).
        """
        if self._closed:
            return
        self._closed = True
        self._stage.stop_all(StopReason.SHUTDOWN)
        if not await self._stage.wait_idle(grace):
            log.warning("Some replies did not finish within %.0f s of shutting down", grace)
        await self._scheduler.close(grace=0.5)
        await self._folding.close(grace=1.0)
        await self._stage.close()
        log.info("Scene runtime stopped")

    async def run_quietly(self, channel_id: int, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` between a channel's turns, its reply in progress stopped first."""
        return await self._keeping.quietly(channel_id, work)
