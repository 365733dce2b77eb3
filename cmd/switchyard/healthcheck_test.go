package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer ready.Close()
	starting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"detail":"service is starting"}`, http.StatusServiceUnavailable)
	}))
	defer starting.Close()
	_, readyPort, _ := net.SplitHostPort(strings.TrimPrefix(ready.URL, "http://"))
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()

	tests := []struct {
		name string
		addr string
		args []string
		want string // "" = healthy
	}{
		{"ready on the listen address", "127.0.0.1:" + readyPort, nil, ""},
		{"wildcard address asked over loopback", ":" + readyPort, nil, ""},
		{"0.0.0.0 asked over loopback", "0.0.0.0:" + readyPort, nil, ""},
		{"explicit url", "", []string{"-url", ready.URL + "/readyz"}, ""},
		{"not ready", "", []string{"-url", starting.URL + "/readyz"}, "answered 503"},
		{"nobody listening", closed, nil, "connection refused"},
		{"bad address", "nonsense", nil, "is not host:port"},
		{"bad url", "", []string{"-url", "ftp://x"}, "must be an http(s) URL"},
		{"bad timeout", "", []string{"-timeout", "0s"}, "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SWITCHYARD_ADDR": tc.addr}
			err := run(context.Background(), append([]string{"switchyard", "healthcheck"}, tc.args...), func(k string) string { return env[k] }, io.Discard, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("healthcheck: %v, want ready", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("healthcheck: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
