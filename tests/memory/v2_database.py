"""A database as the v2 release left it: built with the v2 migration files, holding rows of
every kind (written with plain SQL, as that release's store wrote them), for upgrade tests.
"""

import sqlite3
from typing import Any

from bot.memory.migrate import load_migrations

KEYS = {
    "guild_settings": "guild_id",
    "channels": "channel_id",
    "channel_cast": "channel_id, persona_id",
    "personas": "guild_id, persona_id",
    "player_sheets": "user_id, guild_id",
    "messages": "id",
    "discord_parts": "discord_id",
    "swipes": "message_id, idx",
    "summaries": "id",
    "pins": "id",
    "usage_ledger": "id",
    "leases": "name",
}
"""Every table of the v2 schema, and the key it is dumped in order of."""

MESSAGE = (
    "channel_id, guild_id, discord_id, more_discord_ids, author_id, author_name, kind, "
    "persona_id, text, reply_to, created_at, edited_at, ooc, status, swipe_index, swipe_count"
)

SWIPE = "message_id, idx, text, status, created_at"

ROWS: list[tuple[str, str, tuple[Any, ...]]] = [
    ("guild_settings", "guild_id, log_channel_id, gm_role_id, daily_budget_usd, "
     "user_daily_budget_usd, admin_notified, updated_at",
     (500, 42, 43, 2.5, 0.25, '["auth", "quota"]', 1.0)),
    ("channels", "channel_id, guild_id, enabled, scene_name, scene_setting, reply_mode, "
     "lull_seconds, generation, ooc_mode, updated_at",
     (600, 500, True, "The Rusty Anchor", "A tavern", "auto", 4.5, '{"temperature": 0.8}',
      "mark", 2.0)),
    ("channels", "channel_id, guild_id, enabled, scene_name, scene_setting, reply_mode, "
     "lull_seconds, generation, ooc_mode, updated_at",
     (601, 500, False, "", "", "addressed", None, "{}", None, 3.0)),
    ("channel_cast", "channel_id, persona_id, position, joined_after, joined_at",
     (600, "narrator", 0, 0, 2.0)),
    ("channel_cast", "channel_id, persona_id, position, joined_after, joined_at",
     (600, "bard", 1, 3, 2.5)),
    ("personas", "guild_id, persona_id, card, updated_at",
     (500, "sera", '{"name": "Sérà ✨", "huge": 1208925819614629174706176}', 4.0)),
    ("player_sheets", "user_id, guild_id, name, description, avatar_url, updated_at",
     (7, 0, "Aria", "A ranger.", "https://example.test/a.png", 5.0)),
    ("player_sheets", "user_id, guild_id, name, description, avatar_url, updated_at",
     (7, 500, "Aria here", "Captain.", None, 5.5)),
    # Memory ids 1..7 in order; 6 and 7 are deleted below, so ids were handed out past 5.
    ("messages", MESSAGE, (600, 500, 1001, "", 7, "Aria", "human", None,
                           "Where is the key? 🗝️", None, 10.0, None, False, "complete", 0, 1)),
    ("messages", MESSAGE, (600, 500, 2001, "2002 2003", None, "The Narrator", "persona",
                           "narrator", "In the well.", 1, 11.0, None, False, "complete", 1, 3)),
    ("messages", MESSAGE, (600, 500, 1002, "", 8, "Bram", "human", None, "(brb)", None, 12.0,
                           13.0, True, "complete", 0, 1)),
    ("messages", MESSAGE, (601, 500, 2101, "", None, "Bard", "persona", "bard",
                           "The storm bro", None, 14.0, None, False, "interrupted", 0, 1)),
    ("messages", MESSAGE, (600, 500, 2201, "", None, "Bard", "persona", "bard", "Half a sent",
                           3, 15.0, None, False, "streaming", 0, 1)),
    ("messages", MESSAGE, (601, 500, 1003, "", 7, "Aria", "human", None, "rewound", None, 16.0,
                           None, False, "complete", 0, 1)),
    ("messages", MESSAGE, (601, 500, 1004, "", 7, "Aria", "human", None, "rewound too", None,
                           16.5, None, False, "complete", 0, 1)),
    ("discord_parts", "discord_id, message_id", (2002, 2)),
    ("discord_parts", "discord_id, message_id", (2003, 2)),
    ("swipes", SWIPE, (2, 0, "Under the mat.", "complete", 11.0)),
    ("swipes", SWIPE, (2, 1, "In the well.", "complete", 11.5)),
    ("swipes", SWIPE, (2, 2, "Nowh", "interrupted", 11.7)),
    ("summaries", "channel_id, persona_id, version, text, covers_until, author_id, created_at",
     (600, "", 1, "They look for a key.", 2, None, 17.0)),
    ("summaries", "channel_id, persona_id, version, text, covers_until, author_id, created_at",
     (600, "", 2, "Edited by hand.", 3, 9, 18.0)),
    ("summaries", "channel_id, persona_id, version, text, covers_until, author_id, created_at",
     (600, "bard", 1, "The bard joined late.", 3, None, 19.0)),
    ("pins", "channel_id, text, author_id, created_at", (600, "The key is brass.", 7, 20.0)),
    ("usage_ledger", "guild_id, channel_id, user_id, persona_id, prompt_tokens, "
     "completion_tokens, cached_tokens, cost_usd, created_at",
     (500, 600, 7, "narrator", 1200, 80, 1000, 0.0012, 21.0)),
    ("usage_ledger", "guild_id, channel_id, user_id, persona_id, prompt_tokens, "
     "completion_tokens, cached_tokens, cost_usd, created_at",
     (500, None, None, None, 300, 20, 0, 0.0003, 22.0)),
    ("leases", "name, holder, expires_at", ("channel:600", "proc-a", 99.0)),
]  # fmt: skip

DELETE_NEWEST = "DELETE FROM messages WHERE id > 5"


def v2_migrations(backend: str, version: int = 2) -> list[Any]:
    """The migrations of the v2 release (or of a later `version`), unchanged since."""
    return list(load_migrations(backend)[:version])


def build_sqlite(path: str, version: int = 2) -> None:
    """An SQLite file as the v2 release (or `version`) wrote it (WAL mode, user_version)."""
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode = WAL")
        for migration in v2_migrations("sqlite", version):
            raw.executescript(migration.sql)
        raw.execute(f"PRAGMA user_version = {int(version)}")
        for table, columns, values in ROWS:
            marks = ", ".join("?" * len(values))
            raw.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        raw.execute(DELETE_NEWEST)
    raw.close()


def dump_sqlite(path: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every v2 table, by column name."""
    with sqlite3.connect(path) as raw:
        raw.row_factory = sqlite3.Row
        tables = {
            table: [dict(row) for row in raw.execute(f"SELECT * FROM {table} ORDER BY {key}")]
            for table, key in KEYS.items()
        }
    raw.close()
    return tables


async def build_postgres(url: str, version: int = 2) -> None:
    """A PostgreSQL schema as the v2 release (or `version`) left it."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for migration in v2_migrations("postgres", version):
            await conn.execute(migration.sql)
        await conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for migration in v2_migrations("postgres", version):
            await conn.execute(
                "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
        for table, columns, values in ROWS:
            marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
            await conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *values)
        await conn.execute(DELETE_NEWEST)
    finally:
        await conn.close()


async def dump_postgres(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every v2 table, by column name (booleans as 0/1, as SQLite keeps them)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return {
            table: [
                {k: int(v) if isinstance(v, bool) else v for k, v in row.items()}
                for row in await conn.fetch(f"SELECT * FROM {table} ORDER BY {key}")
            ]
            for table, key in KEYS.items()
        }
    finally:
        await conn.close()
