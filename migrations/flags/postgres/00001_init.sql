-- The flags module's tables: definitions (current version), their full history, and the
-- outbox through which every change reaches the other modules. PostgreSQL twin of
-- ../sqlite/00001_init.sql: same tables and columns; times are BIGINT unix ms, JSON is TEXT.

-- +goose Up
CREATE TABLE flag_environments (
    name       TEXT   PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE flag_definitions (
    environment   TEXT    NOT NULL REFERENCES flag_environments (name),
    flag_key      TEXT    NOT NULL,
    version       BIGINT  NOT NULL,
    definition    TEXT    NOT NULL, -- flagsv1.Definition JSON (the last one, when archived)
    archived      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    updated_by    TEXT    NOT NULL,
    change_reason TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (environment, flag_key)
);

CREATE TABLE flag_versions (
    environment TEXT    NOT NULL,
    flag_key    TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    event_id    TEXT    NOT NULL UNIQUE,
    event_type  TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    archived    BOOLEAN NOT NULL,
    actor       TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    changed_at  BIGINT  NOT NULL,
    PRIMARY KEY (environment, flag_key, version)
);

CREATE TABLE outbox (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    topic           TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE outbox;
DROP TABLE flag_versions;
DROP TABLE flag_definitions;
DROP TABLE flag_environments;
