-- Channels, guild settings, personas, player sheets, messages with their alternatives,
-- rolling summaries and pins. Times are Unix seconds; ids are Discord snowflakes except
-- the store's own `id` columns, which only ever grow (AUTOINCREMENT never reuses one, so a
-- summary's `covers_until` can't come to cover a newer message after a rewind).

CREATE TABLE guild_settings (
    guild_id INTEGER PRIMARY KEY,
    log_channel_id INTEGER,
    gm_role_id INTEGER,
    daily_budget_usd REAL,
    user_daily_budget_usd REAL,
    admin_notified TEXT NOT NULL DEFAULT '[]',
    updated_at REAL NOT NULL
);

CREATE TABLE channels (
    channel_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    scene_name TEXT NOT NULL DEFAULT '',
    scene_setting TEXT NOT NULL DEFAULT '',
    reply_mode TEXT NOT NULL DEFAULT 'addressed' CHECK (reply_mode IN ('addressed', 'auto')),
    lull_seconds REAL,
    generation TEXT NOT NULL DEFAULT '{}',
    ooc_mode TEXT CHECK (ooc_mode IN ('drop', 'mark')),
    updated_at REAL NOT NULL
);

CREATE INDEX channels_enabled ON channels (guild_id) WHERE enabled = 1;

CREATE TABLE channel_cast (
    channel_id INTEGER NOT NULL REFERENCES channels (channel_id) ON DELETE CASCADE,
    persona_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    joined_after INTEGER NOT NULL,
    joined_at REAL NOT NULL,
    PRIMARY KEY (channel_id, persona_id)
);

CREATE TABLE personas (
    guild_id INTEGER NOT NULL,
    persona_id TEXT NOT NULL,
    card TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (guild_id, persona_id)
);

-- guild_id 0 holds a user's global sheet (no guild has id 0, and key columns can't be NULL).
CREATE TABLE player_sheets (
    user_id INTEGER NOT NULL,
    guild_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    avatar_url TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (user_id, guild_id)
);

-- `text`/`status` mirror the alternative on show so reading a window touches one table;
-- `swipes` holds every alternative once a reply has more than one.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    guild_id INTEGER,
    discord_id INTEGER UNIQUE,
    more_discord_ids TEXT NOT NULL DEFAULT '',
    author_id INTEGER,
    author_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('human', 'persona')),
    persona_id TEXT,
    text TEXT NOT NULL,
    reply_to INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    created_at REAL NOT NULL,
    edited_at REAL,
    ooc INTEGER NOT NULL DEFAULT 0 CHECK (ooc IN (0, 1)),
    status TEXT NOT NULL DEFAULT 'complete'
        CHECK (status IN ('streaming', 'complete', 'interrupted')),
    swipe_index INTEGER NOT NULL DEFAULT 0,
    swipe_count INTEGER NOT NULL DEFAULT 1
);

CREATE INDEX messages_channel ON messages (channel_id, id);
CREATE INDEX messages_author ON messages (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX messages_reply_to ON messages (reply_to);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

-- The second and later Discord messages of a reply too long for one.
CREATE TABLE discord_parts (
    discord_id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE
);

CREATE INDEX discord_parts_message ON discord_parts (message_id);

CREATE TABLE swipes (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'interrupted')),
    created_at REAL NOT NULL,
    PRIMARY KEY (message_id, idx)
);

CREATE INDEX swipes_streaming ON swipes (status) WHERE status = 'streaming';

-- persona_id '' is the channel-wide summary.
CREATE TABLE summaries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    persona_id TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    covers_until INTEGER NOT NULL,
    author_id INTEGER,
    created_at REAL NOT NULL,
    UNIQUE (channel_id, persona_id, version)
);

CREATE INDEX summaries_author ON summaries (author_id) WHERE author_id IS NOT NULL;

CREATE TABLE pins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    author_id INTEGER,
    created_at REAL NOT NULL
);

CREATE INDEX pins_channel ON pins (channel_id, id);
CREATE INDEX pins_author ON pins (author_id) WHERE author_id IS NOT NULL;
