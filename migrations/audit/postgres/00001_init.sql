-- +goose Up

-- One row per flag event, in the order it was recorded (seq). Times are unix milliseconds.
-- before_json/after_json hold the flag definitions exactly as the event carried them
-- (TEXT, not jsonb, so that key order and number spelling survive); NULL when the event
-- had none (before of a creation, after of an archival).
-- PostgreSQL twin of ../sqlite/00001_init.sql.
CREATE TABLE audit_entries (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     TEXT   NOT NULL UNIQUE,
    event_type   TEXT   NOT NULL,
    action       TEXT   NOT NULL,
    occurred_at  BIGINT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    actor        TEXT   NOT NULL,
    environment  TEXT   NOT NULL,
    flag_key     TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    reason       TEXT   NOT NULL DEFAULT '',
    before_json  TEXT,
    after_json   TEXT
);

-- The timeline is read newest first, (occurred_at DESC, seq DESC), with keyset paging on
-- that pair; each filter gets an index that ends in the same pair, so a filtered page is
-- an index range scan (backwards) with no sort.
CREATE INDEX audit_entries_time ON audit_entries (occurred_at, seq);
CREATE INDEX audit_entries_env_time ON audit_entries (environment, occurred_at, seq);
CREATE INDEX audit_entries_env_flag_time ON audit_entries (environment, flag_key, occurred_at, seq);
CREATE INDEX audit_entries_flag_time ON audit_entries (flag_key, occurred_at, seq);
CREATE INDEX audit_entries_actor_time ON audit_entries (actor, occurred_at, seq);

-- Idempotent consumption (platform/inbox): one row per (handler, event) processed.
CREATE TABLE inbox (
    handler      TEXT   NOT NULL,
    event_id     TEXT   NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (handler, event_id)
);

-- +goose Down
DROP TABLE inbox;
DROP TABLE audit_entries;
