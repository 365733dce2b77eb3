//go:build !command && !read

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/e2e/suite"
)

const testToken = "alice:alice-secret-token-0001"

// server is one run() of switchyard serve inside the test process.
type server struct {
	t      *testing.T
	base   string
	token  string
	cancel context.CancelFunc
	done   chan error
	out    *lockedBuffer
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

// startServer runs `switchyard serve` on a random loopback port over dataDir and waits
// until it is ready.
func startServer(t *testing.T, dataDir string, env map[string]string) *server {
	t.Helper()
	vars := map[string]string{
		"SWITCHYARD_ADDR":         "127.0.0.1:0",
		"SWITCHYARD_DATA_DIR":     dataDir,
		"SWITCHYARD_ADMIN_TOKENS": testToken,
		"SWITCHYARD_LOG_LEVEL":    "warn",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{t: t, cancel: cancel, done: make(chan error, 1), out: &lockedBuffer{}}
	_, s.token, _ = strings.Cut(vars["SWITCHYARD_ADMIN_TOKENS"], ":")
	go func() {
		err := run(ctx, []string{"switchyard", "serve"}, func(k string) string { return vars[k] }, pw, s.out)
		_ = pw.Close()
		s.done <- err
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("server exited before listening: %v\nlog:\n%s", <-s.done, s.out.String())
		}
		s.base = base
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start; log:\n%s", s.out.String())
	}
	t.Cleanup(s.stop)
	s.eventually("ready", func() bool {
		resp := s.do(http.MethodGet, "/readyz", "", nil)
		return resp.status == http.StatusOK
	})
	return s
}

// stop shuts the server down gracefully and checks it returned no error.
func (s *server) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("run returned %v on graceful shutdown; log:\n%s", err, s.out.String())
		}
	case <-time.After(30 * time.Second):
		s.t.Errorf("server did not shut down in time")
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

// do sends a request as the e2e suite does; headers may hold "Authorization" to override
// the admin token ("" sends none).
func (s *server) do(method, path, body string, headers map[string]string) response {
	s.t.Helper()
	r := s.deployment(busSync).Do(s.t, s.base, method, path, body, headers)
	return response{status: r.Status, header: r.Header, body: r.Body}
}

// eventually polls cond for up to 15 s; the bound is generous, the poll is fast.
func (s *server) eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; log:\n%s", what, s.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deployment is s as the shared e2e suite addresses it: one process serving every API.
func (s *server) deployment(mode string) suite.Deployment {
	actor, _, _ := strings.Cut(testToken, ":")
	return suite.Deployment{Command: s.base, Read: s.base, Token: s.token, Actor: actor, Sync: mode == busSync}
}

func (s *server) evaluate(key string) response {
	return s.do(http.MethodPost, "/ofrep/v1/evaluate/flags/"+key, `{"context":{"targetingKey":"user-1"}}`, nil)
}

func (s *server) auditEntries(query string) []map[string]any {
	s.t.Helper()
	resp := s.do(http.MethodGet, "/api/v1/audit?"+query, "", nil)
	if resp.status != http.StatusOK {
		s.t.Fatalf("audit: %d %s", resp.status, resp.body)
	}
	var page struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(resp.body, &page); err != nil {
		s.t.Fatal(err)
	}
	return page.Entries
}
