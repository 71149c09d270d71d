-- A reply that produced nothing usable is stored as 'failed' (kept out of every prompt).
-- SQLite can't change a CHECK constraint in place: both tables are rebuilt, ids and the
-- AUTOINCREMENT sequence kept.

CREATE TEMP TABLE _messages_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'messages';

CREATE TABLE messages_new (
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
        CHECK (status IN ('streaming', 'complete', 'interrupted', 'failed')),
    swipe_index INTEGER NOT NULL DEFAULT 0,
    swipe_count INTEGER NOT NULL DEFAULT 1
);

INSERT INTO messages_new SELECT * FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM _messages_seq), 0))
    WHERE name = 'messages';
DROP TABLE _messages_seq;

CREATE TABLE swipes_new (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'interrupted', 'failed')),
    created_at REAL NOT NULL,
    PRIMARY KEY (message_id, idx)
);

INSERT INTO swipes_new SELECT * FROM swipes;
DROP TABLE swipes;
ALTER TABLE swipes_new RENAME TO swipes;

CREATE INDEX messages_channel ON messages (channel_id, id);
CREATE INDEX messages_author ON messages (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX messages_reply_to ON messages (reply_to);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';
CREATE INDEX swipes_streaming ON swipes (status) WHERE status = 'streaming';
