package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStartChildServesUntilStopped(t *testing.T) {
	c, err := startChild(t.Context(), "bare echo server", os.Args[0], []string{bareCommand, "-addr", "127.0.0.1:0"}, []string{"GOMAXPROCS=1"}, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.stop()
		}
	})
	if !strings.HasPrefix(c.base, "http://127.0.0.1:") {
		t.Errorf("base %q, want a loopback URL", c.base)
	}
	resp, err := http.Post(c.base+"/ofrep/v1/evaluate/flags/x", "application/json", strings.NewReader(evalContext))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, bareBody) {
		t.Errorf("POST answered %d %s, want 200 and the constant body", resp.StatusCode, body)
	}
	if runtime.GOOS == "linux" && c.cpu() < 0 {
		t.Errorf("cpu() = %v, want a reading", c.cpu())
	}
	stopped = true
	if err := c.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if _, err := http.Get(c.base + "/readyz"); err == nil {
		t.Error("the server still answers after stop")
	}
	if err := c.stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
}

func TestStartChildFailuresCarryTheOutput(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		args    []string
		timeout time.Duration
		want    []string
	}{
		{"exits at once", os.Args[0], []string{bareCommand, "-addr", "nonsense"}, 20 * time.Second,
			[]string{"exited before listening", "listen on nonsense"}},
		{"never listens", "/bin/sh", []string{"-c", "echo starting up; exec sleep 60"}, 300 * time.Millisecond,
			[]string{"did not listen within 300ms", "starting up"}},
		{"not ready", "/bin/sh", []string{"-c", "echo listening on http://127.0.0.1:1; exec sleep 60"}, 500 * time.Millisecond,
			[]string{"was not ready in time", "last http://127.0.0.1:1/readyz"}},
		{"no such binary", "/nonexistent/switchyard", nil, time.Second, []string{"start no such binary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.path, "/bin/") {
				if _, err := os.Stat(tt.path); err != nil {
					t.Skipf("%s: %v", tt.path, err)
				}
			}
			c, err := startChild(t.Context(), tt.name, tt.path, tt.args, nil, tt.timeout)
			if err == nil {
				_ = c.stop()
				t.Fatal("startChild succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestTailKeepsTheLastBytes(t *testing.T) {
	tl := &tail{max: 8}
	for _, s := range []string{"abc", "defgh", "ijk"} {
		if n, err := tl.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := tl.String(); got != "defghijk" {
		t.Errorf("tail = %q, want the last 8 bytes", got)
	}
}
