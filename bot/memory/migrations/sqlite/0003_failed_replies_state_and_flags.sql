-- Replies may end `failed` (nothing usable came back); a key/value table for small runtime
-- state; provider content flags on the usage ledger.
--
-- SQLite cannot change a CHECK constraint in place, so `messages` and `swipes` are rebuilt
-- as SQLite documents it (https://sqlite.org/lang_altertable.html#otheralter): foreign keys
-- are off while migrations run and checked before the commit; every row keeps its id; the
-- AUTOINCREMENT counter of `messages` (which may be above the highest id left) is carried
-- over, so no id is ever handed out twice; the indexes are created again.

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

INSERT INTO messages_new (id, channel_id, guild_id, discord_id, more_discord_ids, author_id,
                          author_name, kind, persona_id, text, reply_to, created_at,
                          edited_at, ooc, status, swipe_index, swipe_count)
SELECT id, channel_id, guild_id, discord_id, more_discord_ids, author_id, author_name, kind,
       persona_id, text, reply_to, created_at, edited_at, ooc, status, swipe_index, swipe_count
FROM messages ORDER BY id;

DELETE FROM sqlite_sequence WHERE name = 'messages_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'messages_new', seq FROM sqlite_sequence
WHERE name = 'messages';

DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;

CREATE INDEX messages_channel ON messages (channel_id, id);
CREATE INDEX messages_author ON messages (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX messages_reply_to ON messages (reply_to);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

CREATE TABLE swipes_new (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'interrupted', 'failed')),
    created_at REAL NOT NULL,
    PRIMARY KEY (message_id, idx)
);

INSERT INTO swipes_new (message_id, idx, text, status, created_at)
SELECT message_id, idx, text, status, created_at FROM swipes ORDER BY message_id, idx;

DROP TABLE swipes;
ALTER TABLE swipes_new RENAME TO swipes;

CREATE INDEX swipes_streaming ON swipes (status) WHERE status = 'streaming';

CREATE TABLE runtime_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
);

ALTER TABLE usage_ledger ADD COLUMN flags TEXT NOT NULL DEFAULT '';
