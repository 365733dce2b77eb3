// Package timeline stores the audit timeline: one entry per flag event, read newest
// first with keyset paging on (occurred_at, seq), or followed in seq order, which is the
// order in which entries were committed (see Store.Record and Store.Follow).
package timeline

import (
	"encoding/json"
	"time"
)

// Entry is one recorded event.
type Entry struct {
	Seq         int64 // local order of recording (= commit order); breaks ties between equal OccurredAt
	EventID     string
	EventType   string
	Action      string
	OccurredAt  time.Time // millisecond precision
	RecordedAt  time.Time
	Actor       string
	Environment string
	FlagKey     string
	Version     int64
	Reason      string
	Before      json.RawMessage // nil when the event carried none
	After       json.RawMessage // nil when the event carried none
}

// Position is a place in the timeline's order (occurred_at DESC, seq DESC).
type Position struct {
	OccurredAtMs int64
	Seq          int64
}

// Filter selects entries. Empty strings and zero times do not filter.
type Filter struct {
	Environment string
	FlagKey     string
	Actor       string
	Since       time.Time // inclusive
	Until       time.Time // exclusive
	After       *Position // entries strictly after this position in the order
	Limit       int
}

// Page is one page of entries, newest first. Next is nil on the last page.
type Page struct {
	Entries []Entry
	Next    *Position
}
