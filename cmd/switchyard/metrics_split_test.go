//go:build command || read

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/metrics/metricstest"
)

const splitAdminToken = "ci-token-0123456789"

// startSide runs this binary's `switchyard serve` (the command or the read side) on a
// random loopback port and returns its base URL once it answers /readyz.
func startSide(t *testing.T, env map[string]string) string {
	t.Helper()
	vars := map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADDR": "127.0.0.1:0",
		"SWITCHYARD_ADMIN_TOKENS": "ci:" + splitAdminToken, "SWITCHYARD_LOG_LEVEL": "error"}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var runErr error
	go func() {
		runErr = run(ctx, []string{"switchyard", "serve"}, func(k string) string { return vars[k] }, pw, io.Discard)
		_ = pw.Close()
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
			if runErr != nil {
				t.Errorf("serve returned %v", runErr)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down in time")
		}
	})
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	var base string
	select {
	case b, ok := <-found:
		if !ok {
			<-done
			t.Fatalf("serve exited before listening: %v", runErr)
		}
		base = b
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	waitFor(t, "ready", func() bool { return status(t, http.MethodGet, base+"/readyz", "") == http.StatusOK })
	return base
}

func status(t *testing.T, method, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+splitAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scrapeSide(t *testing.T, base string) metricstest.Families {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v %s", resp.StatusCode, err, body)
	}
	return metricstest.Parse(t, bytes.NewReader(body))
}

// TestSplitMetrics: each side reports what it runs. The command side, pushing to a read
// side that is down, shows the committed write pending in its outbox with a failed
// delivery, and its push breaker tripped and open; the read side shows its evaluation
// series and no outbox or breaker.
func TestSplitMetrics(t *testing.T) {
	if !flagsLinked {
		base := startSide(t, map[string]string{"SWITCHYARD_BUS": busSync, "SWITCHYARD_PUSH_TOKENS": "command:push-token-0123456789"})
		fams := scrapeSide(t, base)
		if v, _ := fams.Sum("switchyard_build_info", map[string]string{"modules": "evaluation"}); v != 1 {
			t.Errorf("build_info of the read side: %v", fams.Labels("switchyard_build_info"))
		}
		for _, name := range []string{"switchyard_ofrep_event_streams_open", "switchyard_ofrep_evaluations_total", "switchyard_evaluation_snapshot_revision"} {
			if _, found := fams.Sum(name, nil); !found {
				t.Errorf("the read side does not report %s", name)
			}
		}
		for _, name := range []string{"switchyard_outbox_backlog_up", "switchyard_breaker_state"} {
			if _, found := fams.Sum(name, nil); found {
				t.Errorf("the read side reports %s, which belongs to the command side", name)
			}
		}
		return
	}

	// Nothing listens on port 1: every push fails at once, and one failure trips the breaker.
	base := startSide(t, map[string]string{"SWITCHYARD_BUS": busSync, "SWITCHYARD_PUSH_URL": "http://127.0.0.1:1",
		"SWITCHYARD_PUSH_TOKEN": "push-token-0123456789", "SWITCHYARD_PUSH_TRIP_AFTER": "1",
		"SWITCHYARD_PUSH_COOLDOWN": "1h", "SWITCHYARD_PUSH_MAX_COOLDOWN": "1h"})
	breaker := map[string]string{"breaker": "push-evaluation.flag-projection"}
	before := scrapeSide(t, base)
	if v, _ := before.Sum("switchyard_breaker_state", map[string]string{"breaker": breaker["breaker"], "state": "closed"}); v != 1 {
		t.Errorf("breaker before any push: %v, want closed", before.Labels("switchyard_breaker_state"))
	}
	if got := status(t, http.MethodPut, base+"/api/v1/environments/development/flags/pushed", newBannerDefinition); got != http.StatusServiceUnavailable {
		t.Fatalf("write with the read side down: %d, want 503 committed-not-visible", got)
	}
	fams := scrapeSide(t, base)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"switchyard_build_info", map[string]string{"modules": "flags,audit"}, 1},
		{"switchyard_outbox_backlog_up", map[string]string{"module": "flags"}, 1},
		{"switchyard_outbox_pending_events", map[string]string{"module": "flags"}, 1},
		{"switchyard_outbox_failing_events", map[string]string{"module": "flags"}, 1},
		{"switchyard_breaker_trips_total", breaker, 1},
		{"switchyard_breaker_state", map[string]string{"breaker": breaker["breaker"], "state": "open"}, 1},
		{"switchyard_breaker_state", map[string]string{"breaker": breaker["breaker"], "state": "closed"}, 0},
		{"switchyard_http_requests_total", map[string]string{"method": "PUT", "route": "/api/v1/environments/:env/flags/:key", "code": "503"}, 1},
	}
	for _, c := range checks {
		if got, found := fams.Sum(c.name, c.labels); !found || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v; series: %v", c.name, c.labels, got, found, c.want, fams.Labels(c.name))
		}
	}
	if age, _ := fams.Sum("switchyard_outbox_oldest_pending_age_seconds", nil); age <= 0 || age > 60 {
		t.Errorf("oldest pending age %vs, want a few moments", age)
	}
	if _, found := fams.Sum("switchyard_ofrep_evaluations_total", nil); found {
		t.Error("the command side reports OFREP evaluations, which belong to the read side")
	}
}

const newBannerDefinition = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`
