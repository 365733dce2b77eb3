//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"
)

// TestKill9DuringWritesLosesNoAcknowledgedWrite: writers PUT their own flags on the sync
// bus; the process is killed with SIGKILL mid-load and restarted on the same database.
// Every 2xx must have survived (the flag at that version or later), be evaluable, and
// every version in the flags history must have exactly one audit entry.
func TestKill9DuringWritesLosesNoAcknowledgedWrite(t *testing.T) {
	const (
		writers       = 8
		keysPerWriter = 5
		maxWrites     = 2000 // per writer: the load is bounded even if the kill came late
		killAfter     = 3 * time.Second
	)
	bin := binary(t)
	dbName, dsn, _ := database(t)
	p := start(t, bin, dsn)

	var (
		mu     sync.Mutex
		acked  = map[string]int64{} // flag key -> highest acknowledged version
		nAcked = map[string]int{}   // flag key -> acknowledged writes
		nAck   int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range maxWrites {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("crash-w%d-k%d", w, n%keysPerWriter)
				r, err := p.try(http.MethodPut, flagPath(key), definition(n))
				if err != nil || r.status/100 != 2 {
					continue // not acknowledged: no promise was made
				}
				v, ok := etagVersion(r.header)
				if !ok {
					t.Errorf("PUT %s answered %d without a version ETag", key, r.status)
					continue
				}
				mu.Lock()
				nAck++
				nAcked[key]++
				acked[key] = max(acked[key], v)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(killAfter)
	p.kill()
	close(stop)
	wg.Wait()
	if nAck == 0 {
		t.Fatalf("no write was acknowledged before the kill; log:\n%s", p.logs)
	}
	report(t, "killed with SIGKILL after %s: %d writes acknowledged on %d flags", killAfter, nAck, len(acked))

	p = start(t, bin, dsn)
	keys := make([]string, 0, len(acked))
	for k := range acked {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	found := 0
	for _, key := range keys {
		r := p.do(http.MethodGet, flagPath(key), "")
		v, _ := etagVersion(r.header)
		if r.status != http.StatusOK || v < acked[key] {
			t.Errorf("acknowledged %s version %d: after restart GET answers %d version %d %s", key, acked[key], r.status, v, r.body)
			continue
		}
		found += nAcked[key]
		var def struct {
			Variants map[string]json.RawMessage `json:"variants"`
		}
		_ = json.Unmarshal(r.body, &def)
		want := string(def.Variants["v"])
		if want == "" {
			t.Fatalf("GET %s: no variant v in %s", key, r.body)
		}
		p.eventually(15*time.Second, "OFREP serving "+key+" = "+want, func() bool {
			e, err := p.try(http.MethodPost, "/ofrep/v1/evaluate/flags/"+key, `{"context":{"targetingKey":"u"}}`)
			if err != nil || e.status != http.StatusOK {
				return false
			}
			var got struct {
				Value json.RawMessage `json:"value"`
			}
			return json.Unmarshal(e.body, &got) == nil && string(got.Value) == want
		})
	}

	// The outbox drains: whatever was committed but not delivered at the kill is delivered now.
	p.eventually(30*time.Second, "outbox drained", func() bool {
		r, err := p.try(http.MethodGet, "/api/v1/admin/outbox", "")
		if err != nil || r.status != http.StatusOK {
			return false
		}
		var b struct{ Pending int }
		return json.Unmarshal(r.body, &b) == nil && b.Pending == 0
	})

	db := openDB(t, dbName)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	history := map[string][]int64{}
	var historyRows int
	const qHistory = `SELECT flag_key, version FROM flags.flag_versions WHERE environment = 'development' ORDER BY flag_key, version`
	rows, err := db.QueryContext(ctx, qHistory)
	if err != nil {
		t.Fatalf("read flag history: %v", err)
	}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		history[k] = append(history[k], v)
		historyRows++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close()
	var projected int
	const qProjected = `SELECT count(DISTINCT event_id) FROM evaluation.inbox`
	if err := db.QueryRowContext(ctx, qProjected).Scan(&projected); err != nil {
		t.Fatalf("count projected events: %v", err)
	}

	auditEntries, badAudit := 0, 0
	for key, versions := range history {
		counts := p.auditVersions(key)
		for _, c := range counts {
			auditEntries += c
		}
		want := map[int64]bool{}
		for _, v := range versions {
			want[v] = true
			if counts[v] != 1 {
				badAudit++
				t.Errorf("audit of %s version %d: %d entries, want exactly 1", key, v, counts[v])
			}
		}
		for v, c := range counts {
			if !want[v] {
				badAudit++
				t.Errorf("audit of %s has %d entries for version %d, which the flags history does not have", key, c, v)
			}
		}
	}
	if projected != historyRows {
		t.Errorf("evaluation applied %d events, the flags history has %d versions", projected, historyRows)
	}
	report(t, "writes acknowledged %d (on %d flags), found %d; flag versions %d; events projected %d; audit entries %d (%d wrong); lost %d",
		nAck, len(acked), found, historyRows, projected, auditEntries, badAudit, nAck-found)
}
