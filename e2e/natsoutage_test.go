//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNATSOutageDuringWritesLosesAndDuplicatesNothing runs the binary on the async bus
// through a test-owned NATS JetStream, kills NATS (SIGKILL) for 20 s while writers keep
// writing, and starts it again on the same port and store. Every write must be
// acknowledged throughout (the outbox holds the events); afterwards OFREP serves each
// flag's latest acknowledged version, and every flag version has exactly one audit entry.
func TestNATSOutageDuringWritesLosesAndDuplicatesNothing(t *testing.T) {
	const (
		writers       = 4
		keysPerWriter = 3
		pause         = 50 * time.Millisecond // per writer between writes: the load stays bounded
		before        = 2 * time.Second
		outage        = 20 * time.Second
		after         = 2 * time.Second
		settleBound   = 45 * time.Second // outbox backoff reaches 16 s during the outage
	)
	nats := startNATS(t)
	bin := binary(t)
	dbName, dsn, _ := database(t)
	p := start(t, bin, dsn, "SWITCHYARD_BUS=async", "SWITCHYARD_NATS_URL="+nats.url())

	type ack struct {
		version int64
		value   string
	}
	const (
		phaseBefore = iota
		phaseOutage
		phaseAfter
	)
	var (
		phase    atomic.Int32
		mu       sync.Mutex
		latest   = map[string]ack{}
		acked    [3]int
		rejected int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(pause):
				}
				ph := phase.Load()
				key := fmt.Sprintf("nats-w%d-k%d", w, n%keysPerWriter)
				r, err := p.try(http.MethodPut, flagPath(key), definition(n))
				v, ok := etagVersion(r.header)
				mu.Lock()
				switch {
				case err != nil || r.status/100 != 2 || !ok:
					rejected++
					t.Errorf("PUT %s (phase %d): %d %v %s", key, ph, r.status, err, r.body)
				default:
					acked[ph]++
					if v > latest[key].version {
						latest[key] = ack{version: v, value: fmt.Sprint(n)}
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(before)
	nats.kill()
	phase.Store(phaseOutage)
	time.Sleep(outage)
	phase.Store(phaseAfter)
	nats.start()
	time.Sleep(after)
	close(stop)
	wg.Wait()
	if acked[phaseOutage] == 0 {
		t.Fatalf("no write was acknowledged while NATS was down; log:\n%s", p.logs)
	}
	total := acked[phaseBefore] + acked[phaseOutage] + acked[phaseAfter]

	begin := time.Now()
	deadline := begin.Add(settleBound)
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	stale := 0
	for _, key := range keys {
		if !p.serves(key, latest[key].value, deadline) {
			stale++
			t.Errorf("OFREP does not serve %s version %d (value %s) within %s", key, latest[key].version, latest[key].value, settleBound)
		}
	}
	for p.pendingOutbox() != 0 {
		if time.Now().After(deadline) {
			t.Errorf("flags outbox not drained within %s", settleBound)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := p.settled(openDB(t, dbName), time.Until(deadline))
	caughtUp := time.Since(begin)

	if c.versions != total {
		t.Errorf("the flags history has %d versions, %d writes were acknowledged (and %d rejected)", c.versions, total, rejected)
	}
	if c.projected != c.versions {
		t.Errorf("evaluation applied %d events, the flags history has %d versions", c.projected, c.versions)
	}
	if c.audit != c.versions || c.duplicates != 0 || c.missing != 0 || c.unknown != 0 {
		t.Errorf("audit: %d entries for %d versions: %d duplicates, %d versions missing, %d entries for unknown versions",
			c.audit, c.versions, c.duplicates, c.missing, c.unknown)
	}
	report(t, "NATS down %s: writes during outage %d, all acknowledged %d (before %d, after %d, rejected %d); "+
		"caught up in %s; events projected %d; audit entries %d; duplicates %d; lost %d",
		outage, acked[phaseOutage], total, acked[phaseBefore], acked[phaseAfter], rejected,
		caughtUp.Round(time.Millisecond), c.projected, c.audit, c.duplicates, stale+c.missing+(c.versions-c.projected))
}
