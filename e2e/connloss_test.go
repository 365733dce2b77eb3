//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDatabaseConnectionLossAnswersFastAndRecovers terminates every backend connection
// of the serving process, several times, under a write and evaluation load. No request
// may hang or answer 500: each is 2xx, or a 503 problem+json with a detail; afterwards
// writes and evaluations succeed again without a restart.
func TestDatabaseConnectionLossAnswersFastAndRecovers(t *testing.T) {
	const (
		terminations = 5
		requestBound = 5 * time.Second // no single request may take longer
		recoverBound = 10 * time.Second
	)
	bin := binary(t)
	dbName, dsn, admin := database(t)
	p := start(t, bin, dsn)
	if r := p.do(http.MethodPut, flagPath("conn-loss"), definition(0)); r.status/100 != 2 {
		t.Fatalf("create flag: %d %s", r.status, r.body)
	}

	var (
		mu                              sync.Mutex
		total, ok2xx, unavailable, fail int
		slowest                         time.Duration
		details                         = map[string]int{}
	)
	check := func(what string, r response, err error, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		total++
		slowest = max(slowest, took)
		switch {
		case err != nil:
			fail++
			t.Errorf("%s: transport error after %s: %v", what, took, err)
		case took > requestBound:
			fail++
			t.Errorf("%s took %s (bound %s)", what, took, requestBound)
		case r.status/100 == 2:
			ok2xx++
		case r.status == http.StatusServiceUnavailable && strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json"):
			unavailable++
			var pb struct{ Detail string }
			if json.Unmarshal(r.body, &pb) != nil || pb.Detail == "" {
				t.Errorf("%s: 503 without a detail: %s", what, r.body)
			}
			details[pb.Detail]++
		default:
			fail++
			t.Errorf("%s: %d %s", what, r.status, r.body)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				begin := time.Now()
				var r response
				var err error
				what := ""
				if n%2 == 0 {
					what = fmt.Sprintf("PUT conn-loss-w%d", w)
					r, err = p.try(http.MethodPut, flagPath(fmt.Sprintf("conn-loss-w%d", w)), definition(n))
				} else {
					what = "GET audit"
					r, err = p.try(http.MethodGet, "/api/v1/audit?flag=conn-loss&limit=5", "")
				}
				check(what, r, err, time.Since(begin))
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	killed := 0
	for range terminations {
		time.Sleep(400 * time.Millisecond)
		var n int
		const q = `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`
		if err := admin.QueryRowContext(ctx, q, dbName).Scan(&n); err != nil {
			t.Fatalf("terminate backends: %v", err)
		}
		killed += n
	}
	time.Sleep(400 * time.Millisecond)
	close(stop)
	wg.Wait()
	if killed == 0 {
		t.Fatal("no backend connection of the service was terminated: the test proved nothing")
	}

	// Recovery without a restart: a write, its evaluation, and its audit entry.
	begin := time.Now()
	p.eventually(recoverBound, "a write after the connection loss", func() bool {
		r, err := p.try(http.MethodPut, flagPath("conn-loss"), definition(42))
		return err == nil && r.status/100 == 2
	})
	p.eventually(recoverBound, "evaluation of the write after the connection loss", func() bool {
		r, err := p.try(http.MethodPost, "/ofrep/v1/evaluate/flags/conn-loss", `{"context":{"targetingKey":"u"}}`)
		var got struct{ Value json.RawMessage }
		return err == nil && r.status == http.StatusOK && json.Unmarshal(r.body, &got) == nil && string(got.Value) == "42"
	})
	recovered := time.Since(begin)
	report(t, "backends terminated %d (in %d rounds); requests %d: 2xx %d, 503 %d %v, other %d; slowest %s; recovered in %s",
		killed, terminations, total, ok2xx, unavailable, details, fail, slowest.Round(time.Millisecond), recovered.Round(time.Millisecond))
}
