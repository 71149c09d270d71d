-- Long-term recall: a full-text index over the lines a scene remembers; lorebooks; admins'
-- adult/not-adult overrides of persona cards.
--
-- `recall_index` is one FTS5 index of messages (rowid = message id) and summaries (rowid =
-- minus the summary id), so both are ranked on one bm25 scale. It is contentless: the text
-- stays in `messages` and `summaries`, and every removal hands FTS5 the text it indexed.
-- Only what recall may return is indexed: the alternative on show of complete and
-- interrupted lines (never streaming or failed ones), and every summary version.
-- `unicode61 remove_diacritics 2` folds case and accents (Séra = sera); letters, digits and
-- marks make words (marks too, or Hindi words would break at each vowel sign), anything else
-- splits them. There is no stemming (names are not English words). Scripts written without
-- spaces (Chinese, Japanese) index each run of letters between spaces or punctuation as one
-- word.
--
-- Messages are indexed in batches, not one by one (a commit per FTS5 insert would slow
-- every stored message by half): the store indexes every line above `indexed_until` before
-- it searches, and after every few hundred new lines. The triggers keep the rows at or
-- below `indexed_until` current on every edit, alternative switch, finish and deletion;
-- rows above it are read as they are when their batch is indexed. A migration that
-- rebuilds `messages` must recreate the two message triggers.

CREATE VIRTUAL TABLE recall_index USING fts5 (
    text, content = '', tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
);

CREATE TABLE recall_index_state (
    indexed_until INTEGER NOT NULL
);

INSERT INTO recall_index (rowid, text)
SELECT id, text FROM messages WHERE status IN ('complete', 'interrupted') ORDER BY id;
INSERT INTO recall_index (rowid, text) SELECT -id, text FROM summaries ORDER BY id;
INSERT INTO recall_index_state (indexed_until)
SELECT MAX(COALESCE((SELECT MAX(id) FROM messages), 0),
           COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0));

CREATE TRIGGER recall_index_message_changed AFTER UPDATE OF text, status ON messages
WHEN old.id <= (SELECT indexed_until FROM recall_index_state)
    AND (new.text IS NOT old.text
         OR (old.status IN ('complete', 'interrupted')) <> (new.status IN ('complete', 'interrupted')))
BEGIN
    INSERT INTO recall_index (recall_index, rowid, text)
    SELECT 'delete', old.id, old.text WHERE old.status IN ('complete', 'interrupted');
    INSERT INTO recall_index (rowid, text)
    SELECT new.id, new.text WHERE new.status IN ('complete', 'interrupted');
END;

CREATE TRIGGER recall_index_message_deleted AFTER DELETE ON messages
WHEN old.id <= (SELECT indexed_until FROM recall_index_state)
    AND old.status IN ('complete', 'interrupted')
BEGIN
    INSERT INTO recall_index (recall_index, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TRIGGER recall_index_summary_added AFTER INSERT ON summaries
BEGIN
    INSERT INTO recall_index (rowid, text) VALUES (-new.id, new.text);
END;

CREATE TRIGGER recall_index_summary_changed AFTER UPDATE OF text ON summaries
WHEN new.text IS NOT old.text
BEGIN
    INSERT INTO recall_index (recall_index, rowid, text) VALUES ('delete', -old.id, old.text);
    INSERT INTO recall_index (rowid, text) VALUES (-new.id, new.text);
END;

CREATE TRIGGER recall_index_summary_deleted AFTER DELETE ON summaries
BEGIN
    INSERT INTO recall_index (recall_index, rowid, text) VALUES ('delete', -old.id, old.text);
END;

-- A guild's or a scene's lorebook, kept whole as JSON text (the caller validates it).
CREATE TABLE lorebooks (
    scope TEXT NOT NULL CHECK (scope IN ('guild', 'scene')),
    owner_id INTEGER NOT NULL,
    book TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (scope, owner_id)
);

-- An admin's word on whether a persona is for adults, over what its card's tags say.
CREATE TABLE persona_ratings (
    guild_id INTEGER NOT NULL,
    persona_id TEXT NOT NULL,
    adult INTEGER NOT NULL CHECK (adult IN (0, 1)),
    updated_at REAL NOT NULL,
    PRIMARY KEY (guild_id, persona_id)
);
