-- A flag's targeting may reference its flag set's shared rules ($evaluators), and its
-- results merge the flag set's metadata: both arrive with each event and are kept with the
-- flag, so a restart rebuilds the same compiled snapshot from this module's own tables.

-- +goose Up
ALTER TABLE evaluation_flags ADD COLUMN evaluators TEXT CHECK (evaluators IS NULL OR evaluators::jsonb IS NOT NULL);
ALTER TABLE evaluation_flags ADD COLUMN flag_set_metadata TEXT CHECK (flag_set_metadata IS NULL OR flag_set_metadata::jsonb IS NOT NULL);

-- +goose Down
ALTER TABLE evaluation_flags DROP COLUMN flag_set_metadata;
ALTER TABLE evaluation_flags DROP COLUMN evaluators;
