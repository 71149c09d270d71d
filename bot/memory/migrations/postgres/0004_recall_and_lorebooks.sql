-- PostgreSQL twin of sqlite/0004_recall_and_lorebooks.sql: the full-text index of recall,
-- lorebooks, and admins' adult/not-adult overrides of persona cards.
--
-- `messages.search` and `summaries.search` hold each line's words (a generated column, so
-- every insert, edit, alternative switch and finish keeps it current in the same
-- statement), with a GIN index. Only complete and interrupted messages have words; streaming
-- and failed ones have NULL. The `simple` configuration lowercases and does nothing else:
-- no stemming and no stop words, since character names are not English words (`english`
-- would stem "Rose" into "rose" and drop "Will"), and scenes are played in any language.
-- The words are folded first, as SQLite's index does: accents stripped (Séra = sera; the
-- decomposition is skipped for ASCII-only text, most of it), every script lowercased, and
-- anything but letters, digits and spaces turned into a space (the parser of a "C"
-- database would keep “quotes” and 、 inside words). That takes the first Unicode-aware
-- collation the server has, since the database's own may be "C"; without one, words are
-- only stripped of accents and lowercased. The folding is written into the columns (a
-- function call per row would cost more) and into `recall_phrase`, which queries go
-- through, from the same text, so both sides always agree. Adding the columns rewrites
-- both tables once.

DO $$
DECLARE
    unicode_collation TEXT := (
        SELECT quote_ident(collname) FROM pg_collation
        WHERE collname IN ('und-x-icu', 'C.utf8', 'C.UTF-8')
            AND collencoding IN (-1, pg_char_to_encoding('UTF8'))
        ORDER BY collname = 'und-x-icu' DESC, collname LIMIT 1
    );
    -- %1$s stands for the text folded.
    fold TEXT := $f$regexp_replace(CASE WHEN octet_length(%1$s) = char_length(%1$s) THEN %1$s
        ELSE normalize(%1$s, NFD) END, '[\u0300-\u036f]', '', 'g')$f$;
BEGIN
    IF current_setting('server_version_num')::INTEGER < 140000 THEN
        RAISE EXCEPTION 'Ensemble needs PostgreSQL 14 or later (this server runs %)',
            current_setting('server_version');
    END IF;
    IF unicode_collation IS NOT NULL THEN
        fold := format(
            $f$regexp_replace(%s COLLATE %s, '[^[:alnum:] ]+', ' ', 'g')$f$,
            fold, unicode_collation
        );
    END IF;
    fold := format('lower(%s)', fold);
    EXECUTE format(
        $f$CREATE FUNCTION recall_phrase(word TEXT) RETURNS tsquery
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN phraseto_tsquery('simple', %s)$f$,
        format(fold, 'word')
    );
    EXECUTE format(
        $f$ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
            CASE WHEN status IN ('complete', 'interrupted') THEN to_tsvector('simple', %s) END
        ) STORED$f$,
        format(fold, 'text')
    );
    EXECUTE format(
        $f$ALTER TABLE summaries ADD COLUMN search tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', %s)) STORED$f$,
        format(fold, 'text')
    );
END
$$;

CREATE INDEX messages_search ON messages USING gin (search);
CREATE INDEX summaries_search ON summaries USING gin (search);

-- A guild's or a scene's lorebook, kept whole as JSON text (the caller validates it).
CREATE TABLE lorebooks (
    scope TEXT NOT NULL CHECK (scope IN ('guild', 'scene')),
    owner_id BIGINT NOT NULL,
    book TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, owner_id)
);

-- An admin's word on whether a persona is for adults, over what its card's tags say.
CREATE TABLE persona_ratings (
    guild_id BIGINT NOT NULL,
    persona_id TEXT NOT NULL,
    adult BOOLEAN NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (guild_id, persona_id)
);
