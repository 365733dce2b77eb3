-- The evaluation module's tables: its projection of flag events (the last definition of
-- every flag per environment), a revision per environment that grows with every applied
-- event (it keys the OFREP bulk ETag), and the inbox that makes the projection idempotent.
-- PostgreSQL twin of ../sqlite/00001_init.sql: times are unix milliseconds (BIGINT).

-- +goose Up
CREATE TABLE evaluation_environments (
    name       TEXT   PRIMARY KEY,
    revision   BIGINT NOT NULL CHECK (revision >= 0),
    updated_at BIGINT NOT NULL
);

CREATE TABLE evaluation_flags (
    environment TEXT    NOT NULL REFERENCES evaluation_environments (name),
    flag_key    TEXT    NOT NULL,
    version     BIGINT  NOT NULL,                   -- the flags module's version of this flag
    state       TEXT    NOT NULL,                   -- ENABLED / DISABLED; '' when archived before any definition arrived
    definition  TEXT    CHECK (definition IS NULL OR definition::jsonb IS NOT NULL), -- flagsv1.Definition JSON (the last one, when archived)
    archived    BOOLEAN NOT NULL DEFAULT FALSE,
    event_id    TEXT    NOT NULL,                   -- the event that wrote this version
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (environment, flag_key),
    CHECK (archived OR definition IS NOT NULL)
);

-- Named by platform/inbox, which every consuming module shares; each module has its own schema.
CREATE TABLE inbox (
    handler      TEXT   NOT NULL,
    event_id     TEXT   NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (handler, event_id)
);

-- +goose Down
DROP TABLE inbox;
DROP TABLE evaluation_flags;
DROP TABLE evaluation_environments;
