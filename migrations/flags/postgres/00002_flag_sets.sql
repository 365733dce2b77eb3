-- What an environment's flags share: its $evaluators (rules referenced from targeting with
-- {"$ref": name}) and its flag-set metadata. Each version of a flag also records the
-- evaluators it referenced and the flag-set metadata it was published with, so that a
-- version created because a shared rule changed is reproducible from history alone.
-- PostgreSQL twin of ../sqlite/00002_flag_sets.sql.

-- +goose Up
CREATE TABLE flag_evaluators (
    environment   TEXT   NOT NULL REFERENCES flag_environments (name),
    name          TEXT   NOT NULL,
    rule          TEXT   NOT NULL, -- JsonLogic, compact JSON
    updated_at    BIGINT NOT NULL,
    updated_by    TEXT   NOT NULL,
    change_reason TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (environment, name)
);

ALTER TABLE flag_environments ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';

ALTER TABLE flag_versions ADD COLUMN evaluators TEXT NOT NULL DEFAULT '{}';
ALTER TABLE flag_versions ADD COLUMN flag_set_metadata TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE flag_versions DROP COLUMN flag_set_metadata;
ALTER TABLE flag_versions DROP COLUMN evaluators;
ALTER TABLE flag_environments DROP COLUMN metadata;
DROP TABLE flag_evaluators;
