//go:build integration

package e2e

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pushToken = "e2e-push-token-0123456789"

// TestSplitSyncPushSurvivesTheReadSideDying runs the split deploy with the synchronous bus:
// the command process pushes every event to the read process over HTTP, under a 500 ms
// deadline and a breaker that trips after 3 failures. While the read process hangs
// (SIGSTOP) and then is dead (SIGKILL), writes still commit and say "not yet visible";
// the breaker opens after the configured failures; once a new read process is up on the
// same address, the outbox makes every write visible.
func TestSplitSyncPushSurvivesTheReadSideDying(t *testing.T) {
	_, dsn, _ := database(t)
	commandBin, readBin := binaryWithTags(t, "command"), binaryWithTags(t, "read")
	readAddr := freeAddr(t)
	readEnv := []string{"SWITCHYARD_ADDR=" + readAddr, "SWITCHYARD_PUSH_TOKENS=command:" + pushToken}
	read := start(t, readBin, dsn, readEnv...)
	command := start(t, commandBin, dsn, "SWITCHYARD_LOG_LEVEL=info",
		"SWITCHYARD_PUSH_URL=http://"+readAddr, "SWITCHYARD_PUSH_TOKEN="+pushToken,
		"SWITCHYARD_PUSH_TIMEOUT=500ms", "SWITCHYARD_PUSH_TRIP_AFTER=3",
		"SWITCHYARD_PUSH_COOLDOWN=1s", "SWITCHYARD_PUSH_MAX_COOLDOWN=4s")

	// Healthy: a 2xx means the read process already serves the write (no polling).
	version := 0
	var healthy []time.Duration
	for range 5 {
		version++
		began := time.Now()
		if r := command.do(http.MethodPut, flagPath("pushed"), definition(version)); r.status/100 != 2 {
			t.Fatalf("write %d: %d %s", version, r.status, r.body)
		}
		healthy = append(healthy, time.Since(began))
		if !read.serves("pushed", strconv.Itoa(version), time.Now()) {
			t.Fatalf("write %d answered 2xx but the read process does not serve it yet", version)
		}
	}

	// The read process hangs: it accepts connections and never answers.
	if err := read.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var stalled []time.Duration
	for i := 1; i <= 5; i++ {
		version++
		began := time.Now()
		notVisible(t, command, version)
		stalled = append(stalled, time.Since(began))
		if tripped := strings.Contains(command.logs.String(), "push breaker opened"); tripped != (i >= 3) {
			t.Fatalf("after %d failed pushes the breaker log says opened=%v; want it open from the 3rd (SWITCHYARD_PUSH_TRIP_AFTER=3)\n%s", i, tripped, command.logs)
		}
	}
	// Not a speed assertion: while the breaker is open a write must not wait for the
	// push deadline at all, so it is clearly below it.
	for i, d := range stalled[3:] {
		if d >= 500*time.Millisecond {
			t.Fatalf("write %d took %s with the breaker open, want no wait on the 500ms push deadline", i+4, d)
		}
	}

	// Then it is dead.
	read.kill()
	var dead []time.Duration
	for range 5 {
		version++
		began := time.Now()
		notVisible(t, command, version)
		dead = append(dead, time.Since(began))
	}

	// A new read process on the same address: the outbox delivers what waited.
	back := time.Now()
	read = start(t, readBin, dsn, readEnv...)
	ready := time.Since(back)
	if !read.serves("pushed", strconv.Itoa(version), time.Now().Add(30*time.Second)) {
		t.Fatalf("the read process never served version %d; command log:\n%s", version, command.logs)
	}
	visible := time.Since(back)
	command.eventually(30*time.Second, "the outbox to drain", func() bool { return command.pendingOutbox() == 0 })
	versions := command.auditVersions("pushed")
	for v := int64(1); v <= int64(version); v++ {
		if versions[v] != 1 {
			t.Fatalf("audit of version %d: %d entries, want exactly 1 (%v)", v, versions[v], versions)
		}
	}
	// And the synchronous path is back: the next write is visible when it is answered.
	version++
	if r := command.do(http.MethodPut, flagPath("pushed"), definition(version)); r.status/100 != 2 {
		t.Fatalf("write after recovery: %d %s", r.status, r.body)
	}
	if !read.serves("pushed", strconv.Itoa(version), time.Now()) {
		t.Fatal("after recovery a 2xx write is not served at once")
	}
	report(t, "split sync push: healthy writes %s; read process hung: %s (breaker opened at the 3rd); dead: %s; "+
		"new read process ready in %s, every write visible %s after its start; audit: %d versions, once each",
		durations(healthy), durations(stalled), durations(dead), ready.Round(time.Millisecond), visible.Round(time.Millisecond), len(versions))
}

// notVisible writes version and expects the committed-not-visible answer.
func notVisible(t *testing.T, command *process, version int) {
	t.Helper()
	r := command.do(http.MethodPut, flagPath("pushed"), definition(version))
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("write %d with the read side down: %d %s, want 503 committed-not-visible", version, r.status, r.body)
	}
	body := r.json(t)
	pending, _ := body["pendingConsumers"].([]any)
	if body["type"] != "https://switchyard.dev/problems/committed-not-visible" || body["committed"] != true ||
		body["version"] != float64(version) || !slices.Contains(pending, any("evaluation.flag-projection")) {
		t.Fatalf("write %d: %s, want committed-not-visible at version %d pending evaluation.flag-projection", version, r.body, version)
	}
	if v, ok := etagVersion(r.header); !ok || v != int64(version) {
		t.Fatalf("write %d: ETag %q, want the committed version", version, r.header.Get("ETag"))
	}
}

// freeAddr is a loopback address nobody listens on now, for a process that must come
// back on the same address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}
