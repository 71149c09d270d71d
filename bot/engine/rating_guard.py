"""Adult personas speak only in age-restricted channels: seating checks and scene pauses."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.stage import Stage
from bot.models import Persona
from bot.once import Loader
from bot.ratings import is_adult, pause_notice, rating_line, seating_refusal


class RatingGuard:
    """Decides where adult personas may speak, and pauses scenes that lost the right."""

    def __init__(self, stage: Stage) -> None:
        self._stage = stage
        self._overrides: Loader[tuple[int, str], bool | None] = Loader()
        self._paused: set[int] = set()

    def age_restricted(self, channel_id: int) -> bool:
        """Whether the channel (a thread: its parent) is age-restricted in Discord."""
        return self._stage.port.is_age_restricted(channel_id)

    def rating_line(self, channel_id: int) -> str:
        """The sentence the persona's rules carry about the channel's rating."""
        return rating_line(self.age_restricted(channel_id))

    async def adult(self, guild_id: int | None, persona: Persona) -> bool:
        """Whether the persona is for adults (an admin's mark, else its card's tags)."""
        if not guild_id:
            return is_adult(persona)
        return is_adult(persona, await self.override(guild_id, persona.id))

    async def set_adult(self, guild_id: int, persona_id: str, adult: bool | None) -> None:
        """An admin marks a persona as for adults (True), not (False), or by its tags (None)."""
        await self._stage.memory.store.set_persona_adult(guild_id, persona_id, adult)
        self._overrides.forget((guild_id, persona_id))

    async def override(self, guild_id: int, persona_id: str) -> bool | None:
        """The admin's mark on a persona, if any."""
        store = self._stage.memory.store
        return await self._overrides.get(
            (guild_id, persona_id), lambda: store.get_persona_adult(guild_id, persona_id)
        )

    async def blocked(
        self, channel_id: int, guild_id: int | None, personas: Sequence[Persona]
    ) -> list[Persona]:
        """The adult personas among `personas` that may not speak in this channel."""
        if self.age_restricted(channel_id):
            return []
        return [p for p in personas if await self.adult(guild_id, p)]

    async def seating_refusal(
        self, channel_id: int, guild_id: int, personas: Sequence[Persona]
    ) -> str | None:
        """Why these personas can't be seated here, or None when they can."""
        blocked = await self.blocked(channel_id, guild_id, personas)
        if not blocked:
            return None
        return seating_refusal((p.name for p in blocked), f"<#{channel_id}>")

    async def hold(self, channel_id: int, guild_id: int | None, cast: Sequence[Persona]) -> bool:
        """Whether the scene must pause (saying so once); False lets the turn go on."""
        blocked = await self.blocked(channel_id, guild_id, cast)
        if not blocked:
            self._paused.discard(channel_id)
            return False
        if channel_id not in self._paused:
            self._paused.add(channel_id)
            await self._stage.port.notice(channel_id, pause_notice(p.name for p in blocked))
        return True

    async def rating_changed(
        self, channel_id: int, guild_id: int | None, cast: Sequence[Persona]
    ) -> None:
        """The channel's age restriction changed: pause now, or say the scene goes on."""
        was_paused = channel_id in self._paused
        if await self.hold(channel_id, guild_id, cast) or not was_paused:
            return
        await self._stage.port.notice(
            channel_id, "▶️ This channel is age-restricted again: the scene goes on."
        )
