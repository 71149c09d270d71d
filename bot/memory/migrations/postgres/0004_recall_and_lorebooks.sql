-- PostgreSQL twin of sqlite/0004_recall_and_lorebooks.sql: the full-text index of recall,
-- lorebooks, and admins' adult/not-adult overrides of persona cards.
--
-- `messages.search` and `summaries.search` hold each line's words (a generated column, so
-- every insert, edit, alternative switch and finish keeps it current in the same
-- statement), with a GIN index. Only complete and interrupted messages have words; streaming
-- and failed ones have NULL. The `simple` configuration lowercases and does nothing else:
-- no stemming and no stop words, since character names are not English words (`english`
-- would stem "Rose" into "rose" and drop "Will"), and scenes are played in any language.
-- `recall_fold` makes PostgreSQL's words SQLite's: accents stripped (Séra = sera), every
-- script lowercased, and everything but letters and digits a space (the parser of a "C"
-- database would keep “quotes” and 、 inside words). It uses the first Unicode-aware
-- collation the server has, since the database's own may be "C" (without one, it only
-- strips accents and lowercases). Queries go through `recall_phrase`, the same folding, so
-- both sides always agree. Adding the columns rewrites both tables once.

DO $$
DECLARE
    unicode_collation TEXT := (
        SELECT quote_ident(collname) FROM pg_collation
        WHERE collname IN ('und-x-icu', 'C.utf8', 'C.UTF-8')
            AND collencoding IN (-1, pg_char_to_encoding('UTF8'))
        ORDER BY collname = 'und-x-icu' DESC, collname LIMIT 1
    );
    folded TEXT := $f$regexp_replace(normalize(words, NFD), '[\u0300-\u036f]', '', 'g')$f$;
BEGIN
    IF unicode_collation IS NOT NULL THEN
        folded := format(
            $f$regexp_replace(%s COLLATE %s, '[^[:alnum:]]+', ' ', 'g')$f$,
            folded, unicode_collation
        );
    END IF;
    EXECUTE format(
        $f$CREATE FUNCTION recall_fold(words TEXT) RETURNS TEXT
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN lower(%s)$f$,
        folded
    );
END
$$;

CREATE FUNCTION recall_words(words TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN to_tsvector('simple', recall_fold(words));

CREATE FUNCTION recall_phrase(word TEXT) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN phraseto_tsquery('simple', recall_fold(word));

ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE WHEN status IN ('complete', 'interrupted') THEN recall_words(text) END
) STORED;

ALTER TABLE summaries ADD COLUMN search tsvector GENERATED ALWAYS AS (recall_words(text)) STORED;

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
