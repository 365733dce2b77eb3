package testenv

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// AdminToken is the admin token every test server accepts (name "sdk").
const AdminToken = "sdk-test-token-0123456789abcdef"

var listening = regexp.MustCompile(`switchyard listening on http://(\S+)`)

// Server is Switchyard running as a child process on loopback, with its own data
// directory. It can be stopped and started again on the same address and data.
type Server struct {
	t       testing.TB
	bin     string
	dataDir string
	env     []string
	addr    string // host:port, fixed by the first start

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}

	logMu sync.Mutex
	logs  bytes.Buffer
}

// StartServer starts bin (see BuildServer) with SWITCHYARD_ADDR=127.0.0.1:0, a fresh
// data directory, the admin token AdminToken, and env ("NAME=value") on top. It is
// stopped when the test ends; its output is logged if the test failed.
func StartServer(t testing.TB, bin string, env ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: bin, dataDir: t.TempDir(), env: env, addr: "127.0.0.1:0"}
	s.Start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("switchyard output:\n%s", s.output())
		}
	})
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Addr is the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Start starts the server (again), on the address of its first start.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		s.t.Fatal("testenv: server already running")
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = append(os.Environ(),
		"SWITCHYARD_ADDR="+s.Addr(),
		"SWITCHYARD_DATA_DIR="+s.dataDir,
		"SWITCHYARD_ADMIN_TOKENS=sdk:"+AdminToken,
		"SWITCHYARD_LOG_LEVEL=warn",
		"SWITCHYARD_SHUTDOWN_TIMEOUT=2s",
	)
	cmd.Env = append(cmd.Env, s.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatalf("testenv: %v", err)
	}
	cmd.Stderr = &lockedWriter{mu: &s.logMu, w: &s.logs}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("testenv: start %s: %v", s.bin, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.logs.WriteString(line + "\n")
			s.logMu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case addr := <-found:
		s.mu.Lock()
		s.addr, s.cmd, s.exited = addr, cmd, exited
		s.mu.Unlock()
	case <-exited:
		s.t.Fatalf("testenv: switchyard exited before listening:\n%s", s.output())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		s.t.Fatalf("testenv: switchyard did not listen within 30 s:\n%s", s.output())
	}
	s.waitReady()
}

func (s *Server) waitReady() {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL() + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("testenv: switchyard at %s not ready within 15 s", s.addr)
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s). It does nothing when the
// server is not running.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// PutFlag creates or replaces a flag of the development environment.
func (s *Server) PutFlag(key, definition string) {
	s.t.Helper()
	s.admin(http.MethodPut, "/api/v1/environments/development/flags/"+key, definition)
}

// SetState enables or disables a flag.
func (s *Server) SetState(key, state string) {
	s.t.Helper()
	s.admin(http.MethodPut, "/api/v1/environments/development/flags/"+key+"/state", `{"state":"`+state+`"}`)
}

// Archive archives a flag.
func (s *Server) Archive(key string) {
	s.t.Helper()
	s.admin(http.MethodDelete, "/api/v1/environments/development/flags/"+key, "")
}

func (s *Server) admin(method, path, body string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatalf("testenv: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+AdminToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Change-Reason", "sdk test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("testenv: %s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		s.t.Fatalf("testenv: %s %s: HTTP %d: %s", method, path, resp.StatusCode, data)
	}
}

func (s *Server) output() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
