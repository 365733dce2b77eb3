//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestSplitCommandAndReadProcessesServeTheSameFlags runs the split deploy from the same
// code: a command process (-tags command: flags + audit) and a read process (-tags read:
// evaluation), each a child process on one PostgreSQL database, events between them over
// a test-owned NATS JetStream. Every write to the command side is served by the read side.
func TestSplitCommandAndReadProcessesServeTheSameFlags(t *testing.T) {
	_, dsn, _ := database(t)
	nats := startNATS(t)
	commandBin, readBin := binaryWithTags(t, "command"), binaryWithTags(t, "read")
	extra := []string{"SWITCHYARD_BUS=async", "SWITCHYARD_NATS_URL=" + nats.url()}
	command := start(t, commandBin, dsn, extra...)
	read := start(t, readBin, dsn, extra...)

	// Each side serves only its own API.
	if r, err := read.try(http.MethodGet, flagPath("split"), ""); err != nil || r.status != http.StatusNotFound {
		t.Fatalf("the read process serves the admin API: %v %d", err, r.status)
	}
	if r, err := command.try(http.MethodPost, "/ofrep/v1/evaluate/flags/split", `{}`); err != nil || r.status != http.StatusNotFound {
		t.Fatalf("the command process serves OFREP: %v %d", err, r.status)
	}

	const writes = 5
	start := time.Now()
	for i := 1; i <= writes; i++ {
		if r := command.do(http.MethodPut, flagPath("split"), definition(i)); r.status/100 != 2 {
			t.Fatalf("write %d: %d %s", i, r.status, r.body)
		}
		if !read.serves("split", strconv.Itoa(i), time.Now().Add(20*time.Second)) {
			t.Fatalf("the read process never served write %d", i)
		}
	}
	versions := command.auditVersions("split")
	for v := int64(1); v <= writes; v++ {
		if versions[v] != 1 {
			t.Fatalf("audit of version %d: %d entries, want 1 (%v)", v, versions[v], versions)
		}
	}
	report(t, "split deploy: %d writes on the command process, %d served by the read process, audit entries %d; %s",
		writes, writes, len(versions), fmt.Sprintf("all in %s", time.Since(start).Round(time.Millisecond)))
}
