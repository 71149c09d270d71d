-- PostgreSQL twin of sqlite/0003_failed_replies_state_and_flags.sql: replies may end
-- `failed`, a key/value table for small runtime state, provider content flags on the usage
-- ledger. Constraints change in place here; no table is rebuilt.

ALTER TABLE messages DROP CONSTRAINT messages_status_check,
    ADD CONSTRAINT messages_status_check
        CHECK (status IN ('streaming', 'complete', 'interrupted', 'failed'));

ALTER TABLE swipes DROP CONSTRAINT swipes_status_check,
    ADD CONSTRAINT swipes_status_check
        CHECK (status IN ('streaming', 'complete', 'interrupted', 'failed'));

CREATE TABLE runtime_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

ALTER TABLE usage_ledger ADD COLUMN flags TEXT NOT NULL DEFAULT '';
