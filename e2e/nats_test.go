//go:build integration

package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// natsServer is a nats-server with JetStream owned by the test (never the machine's
// shared one), on a fixed loopback port and store directory so that it can be killed
// and started again as the same server.
type natsServer struct {
	t      *testing.T
	bin    string
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *lockedBuffer
}

// startNATS starts a test-owned nats-server; it is killed when the test ends.
func startNATS(t *testing.T) *natsServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nats-server is required in CI: %v", err)
		}
		t.Skipf("nats-server is not installed (%v): install it to run the NATS fault test", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	n := &natsServer{t: t, bin: bin, port: port, dir: t.TempDir(), logs: &lockedBuffer{}}
	n.start()
	t.Cleanup(n.kill)
	return n
}

func (n *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// start runs the server on n's port and store directory and waits until it accepts
// connections.
func (n *natsServer) start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(n.port), "-sd", n.dir)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start nats-server: %v", err)
	}
	exited := make(chan struct{})
	n.exited = exited
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		close(exited)
	}(n.cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", n.port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-exited:
			n.t.Fatalf("nats-server exited on %s; log:\n%s", addr, n.logs)
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nats-server did not listen on %s; log:\n%s", addr, n.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits until the server is gone.
func (n *natsServer) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		n.t.Errorf("nats-server (pid %d) did not die after SIGKILL", n.cmd.Process.Pid)
	}
}

// tally is what the consumers made of the flags history.
type tally struct {
	versions   int // rows in the flags history (every committed change)
	projected  int // events the evaluation module applied (its inbox)
	audit      int // audit entries over the API
	duplicates int // audit entries beyond the first for one flag version
	missing    int // flag versions without an audit entry
	unknown    int // audit entries for a version the history does not have
}

// count reads the flags history and the evaluation inbox from the database and the audit
// timeline of every flag over the API.
func (p *process) count(db *sql.DB) tally {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var c tally
	history := map[string]map[int64]bool{}
	const qHistory = `SELECT flag_key, version FROM flags.flag_versions WHERE environment = 'development'`
	rows, err := db.QueryContext(ctx, qHistory)
	if err != nil {
		p.t.Fatalf("read flag history: %v", err)
	}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			p.t.Fatal(err)
		}
		if history[k] == nil {
			history[k] = map[int64]bool{}
		}
		history[k][v] = true
		c.versions++
	}
	if err := rows.Err(); err != nil {
		p.t.Fatal(err)
	}
	_ = rows.Close()
	const qProjected = `SELECT count(DISTINCT event_id) FROM evaluation.inbox`
	if err := db.QueryRowContext(ctx, qProjected).Scan(&c.projected); err != nil {
		p.t.Fatalf("count projected events: %v", err)
	}
	for key, versions := range history {
		counts := p.auditVersions(key)
		for v, n := range counts {
			c.audit += n
			switch {
			case !versions[v]:
				c.unknown += n
			case n > 1:
				c.duplicates += n - 1
			}
		}
		for v := range versions {
			if counts[v] == 0 {
				c.missing++
			}
		}
	}
	return c
}

// settled waits until the evaluation inbox and the audit table hold as many events as
// the flags history has versions (or bound passes), then counts over the API.
func (p *process) settled(db *sql.DB, bound time.Duration) tally {
	p.t.Helper()
	const q = `SELECT (SELECT count(*) FROM flags.flag_versions),
	                  (SELECT count(DISTINCT event_id) FROM evaluation.inbox),
	                  (SELECT count(*) FROM audit.audit_entries)`
	deadline := time.Now().Add(bound)
	for {
		var versions, projected, audited int
		err := db.QueryRow(q).Scan(&versions, &projected, &audited)
		if err == nil && projected >= versions && audited >= versions {
			break
		}
		if time.Now().After(deadline) {
			p.t.Errorf("after %s: history %d versions, evaluation applied %d, audit recorded %d (err %v)", bound, versions, projected, audited, err)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p.count(db)
}

// serves waits until OFREP evaluates key to want (the raw JSON value).
func (p *process) serves(key, want string, deadline time.Time) bool {
	for {
		e, err := p.try(http.MethodPost, "/ofrep/v1/evaluate/flags/"+key, `{"context":{"targetingKey":"u"}}`)
		if err == nil && e.status == http.StatusOK {
			var got struct {
				Value json.RawMessage `json:"value"`
			}
			if json.Unmarshal(e.body, &got) == nil && string(got.Value) == want {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pendingOutbox is the flags outbox backlog as the admin API reports it (-1 on error).
func (p *process) pendingOutbox() int {
	r, err := p.try(http.MethodGet, "/api/v1/admin/outbox", "")
	if err != nil || r.status != http.StatusOK {
		return -1
	}
	var b struct{ Pending int }
	if json.Unmarshal(r.body, &b) != nil {
		return -1
	}
	return b.Pending
}
