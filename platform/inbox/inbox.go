// Package inbox makes event consumers idempotent. Each consuming module owns a table
//
//	CREATE TABLE inbox (handler TEXT, event_id TEXT, processed_at INTEGER, PRIMARY KEY (handler, event_id))
//
// and claims every event inside the same transaction as the projection it feeds: a
// redelivered event finds its claim and changes nothing.
package inbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Claim records that handler processes eventID in tx. It returns false when handler has
// already processed eventID; the caller must then leave the projection untouched and
// acknowledge the message.
func Claim(ctx context.Context, tx *sqlx.Tx, handler, eventID string, now time.Time) (bool, error) {
	const q = `INSERT INTO inbox (handler, event_id, processed_at) VALUES (?, ?, ?)
ON CONFLICT (handler, event_id) DO NOTHING`
	res, err := tx.ExecContext(ctx, tx.Rebind(q), handler, eventID, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("inbox claim %s/%s: %w", handler, eventID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("inbox claim %s/%s: rows affected: %w", handler, eventID, err)
	}
	return n == 1, nil
}
