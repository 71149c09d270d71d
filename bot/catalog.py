"""The personas a guild can cast: shipped cards, overridden by the guild's own by id."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.cards import CardError, persona_from_card
from bot.memory import Store
from bot.models import Persona
from bot.once import Loader

log = logging.getLogger(__name__)


class PersonaCatalog:
    """Looks personas up per guild; a guild's own card wins over a shipped one of the same id."""

    def __init__(self, store: Store, shipped: Mapping[str, Persona]) -> None:
        self._store = store
        self._shipped = dict(shipped)
        self._guilds: Loader[int, dict[str, Persona]] = Loader()

    @property
    def shipped(self) -> Mapping[str, Persona]:
        """The personas that ship with the bot, by id."""
        return self._shipped

    async def for_guild(self, guild_id: int | None) -> dict[str, Persona]:
        """Every persona available in a guild, by id (cached until the guild's cards change)."""
        if guild_id is None:
            return dict(self._shipped)
        return await self._guilds.get(guild_id, lambda: self._load(guild_id))

    async def _load(self, guild_id: int) -> dict[str, Persona]:
        personas = dict(self._shipped)
        for stored in await self._store.list_personas(guild_id):
            try:
                personas[stored.persona_id] = persona_from_card(
                    stored.card, persona_id=stored.persona_id
                )
            except CardError as error:
                log.warning("Skipping stored persona %s: %s", stored.persona_id, error)
        return personas

    async def get(self, guild_id: int | None, persona_id: str) -> Persona | None:
        """One persona by id, or None."""
        return (await self.for_guild(guild_id)).get(persona_id)

    def invalidate(self, guild_id: int) -> None:
        """Forget the cached list after a guild's cards changed."""
        self._guilds.forget(guild_id)
