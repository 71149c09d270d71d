"""Store methods built only on other Store methods, shared by every backend."""

from __future__ import annotations

from bot.memory.records import Summary
from bot.memory.store import Store
from bot.models import PlayerSheet


class DerivedStore(Store):
    """A `Store` whose convenience lookups are answered by its batch and history methods."""

    async def get_sheet(self, user_id: int, guild_id: int | None) -> PlayerSheet | None:
        """A player's sheet: the guild's one if set, else their global one."""
        return (await self.get_sheets((user_id,), guild_id)).get(user_id)

    async def get_summary(self, channel_id: int, persona_id: str | None = None) -> Summary | None:
        """The current summary of a channel (or of one persona's view of it)."""
        history = await self.summary_history(channel_id, persona_id, limit=1)
        return history[0] if history else None
