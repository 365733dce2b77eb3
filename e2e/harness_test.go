//go:build integration

package e2e

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
)

const adminToken = "e2e-admin-token-000000000001"

// report prints a figure to the test log and to stdout, so CI output shows it.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	t.Log(msg)
	fmt.Printf("%s: %s\n", t.Name(), msg)
}

// binary returns BIN, or builds ./cmd/switchyard into the test's temporary directory.
func binary(t *testing.T) string {
	t.Helper()
	return binaryWithTags(t, "")
}

// binaryWithTags builds ./cmd/switchyard with build tags ("command", "read"); without
// tags it is the monolith, for which BIN, when set, is used instead.
func binaryWithTags(t *testing.T, tags string) string {
	t.Helper()
	if bin := os.Getenv("BIN"); bin != "" && tags == "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	out := filepath.Join(t.TempDir(), "switchyard")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", tags, "-o", out, "../cmd/switchyard")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// database creates a fresh PostgreSQL database, dropped (connections forced out) when
// the test ends, and returns its name, its DSN and an admin connection to the server.
func database(t *testing.T) (name, dsn string, admin *sql.DB) {
	t.Helper()
	return migratetest.Database(t)
}

// process is one `switchyard serve` child process.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	logs   *lockedBuffer
	exited chan struct{}
	client *http.Client
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listeningLine = regexp.MustCompile(`listening on (http://\S+)`)

// start runs bin serve with every module on dsn and the sync bus, on a free loopback
// port, and waits until /readyz answers 200. The process is killed when the test ends.
// start runs the binary on dsn with the sync bus; extra NAME=value settings come after
// the harness's own, so they win (exec keeps the last value of a duplicated key):
// SWITCHYARD_BUS=async and SWITCHYARD_NATS_URL, for instance.
func start(t *testing.T, bin, dsn string, extra ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"SWITCHYARD_ADDR=127.0.0.1:0",
		"SWITCHYARD_DATA_DIR="+t.TempDir(),
		"SWITCHYARD_BUS=sync",
		"SWITCHYARD_ADMIN_TOKENS=e2e:"+adminToken,
		"SWITCHYARD_LOG_LEVEL=warn",
		"SWITCHYARD_FLAGS_DSN="+dsn,
		"SWITCHYARD_EVALUATION_DSN="+dsn,
		"SWITCHYARD_AUDIT_DSN="+dsn,
	)
	cmd.Env = append(cmd.Env, extra...)
	p := &process{t: t, cmd: cmd, logs: &lockedBuffer{}, exited: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second}}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	select {
	case base, ok := <-found:
		if !ok {
			<-p.exited
			t.Fatalf("switchyard exited before listening (%v); log:\n%s", cmd.ProcessState, p.logs)
		}
		p.base = base
	case <-time.After(30 * time.Second):
		t.Fatalf("switchyard did not listen within 30s; log:\n%s", p.logs)
	}
	p.eventually(30*time.Second, "ready", func() bool {
		r, err := p.try(http.MethodGet, "/readyz", "")
		return err == nil && r.status == http.StatusOK
	})
	return p
}

// kill sends SIGKILL (no shutdown, no drain) and waits for the process to be gone.
func (p *process) kill() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Errorf("switchyard (pid %d) did not die after SIGKILL", p.cmd.Process.Pid)
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// try sends one request with the admin token; err is a transport failure.
func (p *process) try(method, path, body string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := p.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// do is try that fails the test on a transport error.
func (p *process) do(method, path, body string) response {
	p.t.Helper()
	r, err := p.try(method, path, body)
	if err != nil {
		p.t.Fatalf("%s %s: %v; log:\n%s", method, path, err, p.logs)
	}
	return r
}

// eventually polls cond every 20 ms for up to bound.
func (p *process) eventually(bound time.Duration, what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out after %s waiting for %s; log:\n%s", bound, what, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func flagPath(key string) string { return "/api/v1/environments/development/flags/" + key }

// definition is a flag whose evaluated value is n, so a reader can tell versions apart.
func definition(n int) string {
	return fmt.Sprintf(`{"state":"ENABLED","variants":{"v":%d},"defaultVariant":"v"}`, n)
}

// etagVersion reads the version from an ETag like "3" or W/"3".
func etagVersion(h http.Header) (int64, bool) {
	var v int64
	tag := strings.Trim(strings.TrimPrefix(h.Get("ETag"), "W/"), `"`)
	if _, err := fmt.Sscan(tag, &v); err != nil {
		return 0, false
	}
	return v, true
}

// auditVersions pages through the audit timeline of one flag and counts entries per version.
func (p *process) auditVersions(key string) map[int64]int {
	p.t.Helper()
	counts := map[int64]int{}
	cursor := ""
	for {
		q := url.Values{"flag": {key}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := p.do(http.MethodGet, "/api/v1/audit?"+q.Encode(), "")
		if r.status != http.StatusOK {
			p.t.Fatalf("audit of %s: %d %s", key, r.status, r.body)
		}
		var page struct {
			Entries []struct {
				Environment string `json:"environment"`
				Version     int64  `json:"version"`
			} `json:"entries"`
			NextCursor string `json:"nextCursor"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			p.t.Fatal(err)
		}
		for _, e := range page.Entries {
			if e.Environment == "development" {
				counts[e.Version]++
			}
		}
		if page.NextCursor == "" {
			return counts
		}
		cursor = page.NextCursor
	}
}

// openDB connects to the test database itself (admin is connected to the server's
// maintenance database).
func openDB(t *testing.T, name string) *sql.DB {
	t.Helper()
	u, err := url.Parse(migratetest.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
