-- A reply that produced nothing usable is stored as 'failed' (kept out of every prompt).

ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('streaming', 'complete', 'interrupted', 'failed'));
ALTER TABLE swipes DROP CONSTRAINT swipes_status_check;
ALTER TABLE swipes ADD CONSTRAINT swipes_status_check
    CHECK (status IN ('streaming', 'complete', 'interrupted', 'failed'));
