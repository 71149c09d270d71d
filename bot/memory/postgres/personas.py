"""Guild persona cards and player character sheets in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.memory.postgres.base import PostgresBase
from bot.memory.postgres.events import NOTIFY_SHEET
from bot.memory.records import StoredPersona
from bot.memory.rows import (
    GLOBAL_SHEET,
    persona_card_text,
    sheet_scope,
    sheet_values,
    sheets_by_user,
    stored_persona,
)
from bot.models import PlayerSheet

_UPSERT_PERSONA = """
INSERT INTO personas (guild_id, persona_id, card, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (guild_id, persona_id) DO UPDATE SET
    card = excluded.card,
    updated_at = excluded.updated_at
"""

_UPSERT_SHEET = """
INSERT INTO player_sheets (user_id, guild_id, name, description, avatar_url, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (user_id, guild_id) DO UPDATE SET
    name = excluded.name,
    description = excluded.description,
    avatar_url = excluded.avatar_url,
    updated_at = excluded.updated_at
"""


class PersonasMixin(PostgresBase):
    """Persona cards per guild, and player sheets per guild or global."""

    async def list_personas(self, guild_id: int) -> list[StoredPersona]:
        """A guild's own persona cards, by id."""
        async with self._connection() as conn:
            # Byte order, as SQLite sorts, whatever the database's locale.
            rows = await conn.fetch(
                "SELECT persona_id, card, updated_at FROM personas "
                'WHERE guild_id = $1 ORDER BY persona_id COLLATE "C"',
                guild_id,
            )
        return [stored_persona(guild_id, *row) for row in rows]

    async def get_persona(self, guild_id: int, persona_id: str) -> StoredPersona | None:
        """One of a guild's own persona cards."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT card, updated_at FROM personas WHERE guild_id = $1 AND persona_id = $2",
                guild_id,
                persona_id,
            )
        if row is None:
            return None
        return stored_persona(guild_id, persona_id, *row)

    async def save_persona(
        self, guild_id: int, persona_id: str, card: Mapping[str, Any]
    ) -> StoredPersona:
        """Create or replace a guild's persona card; any JSON value survives unchanged."""
        text = persona_card_text(persona_id, card)
        now = self._clock()
        async with self._connection() as conn:
            await conn.execute(_UPSERT_PERSONA, guild_id, persona_id, text, now)
        return stored_persona(guild_id, persona_id, text, now)

    async def delete_persona(self, guild_id: int, persona_id: str) -> bool:
        """Remove a guild's persona card; False if there was none."""
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "DELETE FROM personas WHERE guild_id = $1 AND persona_id = $2 RETURNING 1",
                guild_id,
                persona_id,
            )
        return row is not None

    async def get_sheets(
        self, user_ids: Iterable[int], guild_id: int | None
    ) -> dict[int, PlayerSheet]:
        """Sheets of several players at once (guild sheets win); players without one are absent."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        scope = sheet_scope(guild_id)
        async with self._connection() as conn:
            # Global sheets sort first, so a guild sheet read later replaces them.
            rows = await conn.fetch(
                "SELECT user_id, name, description, avatar_url FROM player_sheets "
                "WHERE user_id = ANY($1::BIGINT[]) AND guild_id IN ($2, $3) ORDER BY guild_id = $2",
                wanted,
                scope,
                GLOBAL_SHEET,
            )
        return sheets_by_user(rows)

    async def save_sheet(self, sheet: PlayerSheet, guild_id: int | None) -> None:
        """Create or replace a player's sheet for one guild, or globally when `guild_id` is None.

        The other processes hear of it on commit (see `bot.memory.postgres.events`).
        """
        async with self._transaction() as conn:
            await conn.execute(_UPSERT_SHEET, *sheet_values(sheet, guild_id, self._clock()))
            await conn.execute(NOTIFY_SHEET, sheet.user_id, self._sender)

    async def clear_sheet(self, user_id: int, guild_id: int | None) -> bool:
        """Remove a player's guild (or global) sheet; False if there was none.

        The other processes hear of a removal on commit (see `bot.memory.postgres.events`).
        """
        scope = sheet_scope(guild_id)
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "DELETE FROM player_sheets WHERE user_id = $1 AND guild_id = $2 RETURNING 1",
                user_id,
                scope,
            )
            if row is not None:
                await conn.execute(NOTIFY_SHEET, user_id, self._sender)
        return row is not None
