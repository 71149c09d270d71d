-- The usage ledger (one row per model request) and leases for per-channel single-flight.

CREATE TABLE usage_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER,
    user_id INTEGER,
    persona_id TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL,
    created_at REAL NOT NULL
);

CREATE INDEX usage_guild_time ON usage_ledger (guild_id, created_at);
CREATE INDEX usage_user_time ON usage_ledger (user_id, created_at) WHERE user_id IS NOT NULL;

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL
);
