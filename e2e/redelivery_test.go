//go:build integration

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestRedeliveredEventsChangeNothing delivers the same events twice at process level:
// the flags outbox rows already delivered are marked undelivered in the database, so the
// running relay delivers every one of them again; then, with the process stopped, only
// the oldest event of one flag is marked undelivered and the process started again, so
// an old version arrives after the newest one. No audit entry may be recorded twice, the
// evaluation inbox may not grow, and OFREP must still serve each flag's newest version.
func TestRedeliveredEventsChangeNothing(t *testing.T) {
	const (
		flags    = 5
		versions = 4
		bound    = 20 * time.Second
	)
	bin := binary(t)
	dbName, dsn, _ := database(t)
	db := openDB(t, dbName)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := start(t, bin, dsn)

	key := func(i int) string { return fmt.Sprintf("redeliver-%d", i) }
	for v := range versions {
		for i := range flags {
			if r := p.do(http.MethodPut, flagPath(key(i)), definition(100*i+v)); r.status/100 != 2 {
				t.Fatalf("PUT %s: %d %s", key(i), r.status, r.body)
			}
		}
	}
	newest := func(i int) string { return fmt.Sprint(100*i + versions - 1) }
	checkServes := func(when string) int {
		t.Helper()
		regressed := 0
		for i := range flags {
			if !p.serves(key(i), newest(i), time.Now().Add(bound)) {
				regressed++
				t.Errorf("%s: OFREP does not serve %s = %s (its newest version)", when, key(i), newest(i))
			}
		}
		return regressed
	}
	checkServes("before the redelivery")
	first := p.settled(db, bound)
	if first.versions != flags*versions || first.audit != first.versions || first.projected != first.versions {
		t.Fatalf("before the redelivery: %+v, want %d versions, each projected and audited once", first, flags*versions)
	}
	inboxRows := func() (n int) {
		t.Helper()
		const q = `SELECT (SELECT count(*) FROM evaluation.inbox) + (SELECT count(*) FROM audit.inbox)`
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("count inbox rows: %v", err)
		}
		return n
	}
	attempts := func() (n int) {
		t.Helper()
		const q = `SELECT coalesce(sum(attempts), 0) FROM flags.outbox`
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("sum outbox attempts: %v", err)
		}
		return n
	}
	drained := func(when string) {
		t.Helper()
		p.eventually(bound, "outbox drained "+when, func() bool { return p.pendingOutbox() == 0 })
	}
	inboxBefore := inboxRows()

	// 1. Every delivered row again, while the process runs: the relay picks them up.
	attemptsBefore := attempts()
	const qResetAll = `UPDATE flags.outbox SET delivered_at = NULL, next_attempt_at = 0 WHERE delivered_at IS NOT NULL`
	res, err := db.ExecContext(ctx, qResetAll)
	if err != nil {
		t.Fatalf("mark outbox undelivered: %v", err)
	}
	resetAll, _ := res.RowsAffected()
	if resetAll != int64(first.versions) {
		t.Fatalf("marked %d outbox rows undelivered, want %d", resetAll, first.versions)
	}
	drained("after marking every row undelivered")
	redelivered := attempts() - attemptsBefore
	if redelivered != int(resetAll) {
		t.Errorf("the relay made %d delivery attempts for %d rows marked undelivered, want one each", redelivered, resetAll)
	}
	regressed := checkServes("after the redelivery of every event")

	// 2. An older version's event after the newest, across a restart.
	p.kill()
	const qResetOld = `UPDATE flags.outbox SET delivered_at = NULL, next_attempt_at = 0
		WHERE event_id = (SELECT event_id FROM flags.flag_versions
		                  WHERE environment = 'development' AND flag_key = $1 AND version = 1)`
	attemptsBefore = attempts()
	res, err = db.ExecContext(ctx, qResetOld, key(0))
	if err != nil {
		t.Fatalf("mark the oldest event of %s undelivered: %v", key(0), err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("marked %d rows undelivered for %s version 1, want 1", n, key(0))
	}
	p = start(t, bin, dsn)
	drained("after the restart")
	if n := attempts() - attemptsBefore; n != 1 {
		t.Errorf("after the restart the relay made %d delivery attempts for the one older event, want 1", n)
	}
	regressed += checkServes("after an older version was delivered again")

	last := p.count(db)
	inboxAfter := inboxRows()
	if inboxAfter != inboxBefore {
		t.Errorf("the consumers' inboxes grew from %d to %d rows on redelivered events", inboxBefore, inboxAfter)
	}
	if last.versions != first.versions || last.projected != first.versions || last.audit != first.versions ||
		last.duplicates != 0 || last.missing != 0 || last.unknown != 0 {
		t.Errorf("after the redeliveries: %+v, want %d versions, each projected and audited once", last, first.versions)
	}
	report(t, "flags %d, versions %d; events delivered again %d (every row, relay running) + 1 (version 1 of %s, after a restart); "+
		"events projected %d; audit entries %d; duplicates %d; inbox rows %d -> %d; OFREP regressions %d",
		flags, last.versions, redelivered, key(0), last.projected, last.audit, last.duplicates, inboxBefore, inboxAfter, regressed)
}
