//go:build !command && !read

package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// natsServer starts a NATS server with JetStream that belongs to this test (never the
// machine's shared one) and returns its URL.
func natsServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nats-server is required in CI: %v", err)
		}
		t.Skipf("nats-server is not installed (%v): install it to run the NATS tests", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return "nats://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTwoReplicasOnPostgresAndNATSServeConsistentEvaluations runs two replicas of the
// binary on one PostgreSQL database and one NATS JetStream: a write to either is served
// by both, and each change is recorded in the audit timeline once.
func TestTwoReplicasOnPostgresAndNATSServeConsistentEvaluations(t *testing.T) {
	dsn := postgresDatabase(t)
	env := map[string]string{
		"SWITCHYARD_BUS":            busAsync,
		"SWITCHYARD_NATS_URL":       natsServer(t),
		"SWITCHYARD_FLAGS_DSN":      dsn,
		"SWITCHYARD_EVALUATION_DSN": dsn,
		"SWITCHYARD_AUDIT_DSN":      dsn,
	}
	a := startServer(t, t.TempDir(), env)
	b := startServer(t, t.TempDir(), env)

	writes := []struct {
		to    *server
		path  string
		body  string
		state string
	}{
		{a, "/api/v1/environments/development/flags/shared", newBanner, "STATIC"},
		{b, "/api/v1/environments/development/flags/shared/state", `{"state":"DISABLED"}`, "DISABLED"},
		{a, "/api/v1/environments/development/flags/shared/state", `{"state":"ENABLED"}`, "STATIC"},
	}
	for i, w := range writes {
		if resp := w.to.do(http.MethodPut, w.path, w.body, nil); resp.status/100 != 2 {
			t.Fatalf("write %d: %d %s", i, resp.status, resp.body)
		}
		for name, s := range map[string]*server{"a": a, "b": b} {
			s.eventually(fmt.Sprintf("replica %s serving write %d", name, i), func() bool {
				resp := s.evaluate("shared")
				return resp.status == http.StatusOK && resp.json(t)["reason"] == w.state
			})
		}
	}
	for name, s := range map[string]*server{"a": a, "b": b} {
		s.eventually("audit on replica "+name, func() bool { return len(s.auditEntries("flag=shared")) == len(writes) })
	}
	// No change was recorded twice, whichever replica consumed it.
	if n := len(a.auditEntries("flag=shared")); n != len(writes) {
		t.Fatalf("audit has %d entries for %d writes", n, len(writes))
	}
}
