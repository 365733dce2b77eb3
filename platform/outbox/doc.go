// Package outbox makes "state changed" and "event published" one atomic fact. A command
// writes its event with Enqueue in the transaction that changes its state; the Relay
// delivers committed rows to the bus and marks them delivered only when every consumer
// processed them. A crash at any point leaves the row undelivered, and it is delivered
// after restart: consumers dedupe with the inbox.
//
// A failing row is never dropped: it is retried with backoff (capped by MaxBackoff) until
// delivered. Operators see it through Backlog, ListFailing and Resubmit, over HTTP via
// Relay.Routes (mounted by the composition root behind admin auth), and in the log: Run
// reports the backlog every BacklogLogEvery while anything is pending (WARN once the
// oldest row is older than BacklogWarnAge), and nothing while the outbox is empty.
//
// The owning module creates the table in its own migrations:
//
//	CREATE TABLE outbox (
//	    id              INTEGER PRIMARY KEY AUTOINCREMENT,
//	    event_id        TEXT    NOT NULL UNIQUE,
//	    topic           TEXT    NOT NULL,
//	    event_type      TEXT    NOT NULL,
//	    payload         TEXT    NOT NULL,
//	    created_at      INTEGER NOT NULL, -- unix ms
//	    attempts        INTEGER NOT NULL DEFAULT 0,
//	    next_attempt_at INTEGER NOT NULL, -- unix ms; the relay leaves the row alone until then
//	    delivered_at    INTEGER,          -- unix ms; NULL while pending
//	    last_error      TEXT
//	);
package outbox
