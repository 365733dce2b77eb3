-- The flags module's tables: definitions (current version), their full history, and the
-- outbox through which every change reaches the other modules.

-- +goose Up
CREATE TABLE flag_environments (
    name       TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE flag_definitions (
    environment   TEXT    NOT NULL REFERENCES flag_environments (name),
    flag_key      TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    definition    TEXT    NOT NULL, -- flagsv1.Definition JSON (the last one, when archived)
    archived      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT    NOT NULL,
    change_reason TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (environment, flag_key)
);

CREATE TABLE flag_versions (
    environment TEXT    NOT NULL,
    flag_key    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    event_id    TEXT    NOT NULL UNIQUE,
    event_type  TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    archived    INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (environment, flag_key, version)
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL UNIQUE,
    topic           TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE outbox;
DROP TABLE flag_versions;
DROP TABLE flag_definitions;
DROP TABLE flag_environments;
