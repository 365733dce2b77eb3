-- Delivered outbox rows are pruned once older than the relay's retention; this index
-- finds them without scanning the pending ones.
-- +goose Up
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;

-- +goose Down
DROP INDEX outbox_delivered;
