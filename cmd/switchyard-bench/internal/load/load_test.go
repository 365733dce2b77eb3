package load

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var quick = Options{Conns: 4, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, Timeout: 5 * time.Second}

func TestRunCountsExpectedStatusesAsOKAndTheRestAsErrors(t *testing.T) {
	var n atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(body) != `{"context":{}}` || r.Header.Get("X-Bench") != "yes" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()

	var edges []bool
	o := quick
	o.OnWindow = func(start bool) { edges = append(edges, start) }
	res, err := Run(context.Background(), Target{
		Method: http.MethodPost, URL: srv.URL, Body: []byte(`{"context":{}}`),
		Header: http.Header{"X-Bench": {"yes"}}, Expect: http.StatusOK,
	}, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors == 0 {
		t.Fatalf("OK %d, errors %d: want both (every 4th response is a 500)", res.OK, res.Errors)
	}
	if res.Latency.Count() != res.OK {
		t.Errorf("latency count %d, want one per OK response (%d)", res.Latency.Count(), res.OK)
	}
	if len(res.Samples) != 1 || res.Samples[0] != "status 500, want 200" {
		t.Errorf("samples %q, want the 500", res.Samples)
	}
	if res.Window != o.Duration || res.Rate() != float64(res.OK)/o.Duration.Seconds() {
		t.Errorf("window %v rate %v, want %v and OK/window", res.Window, res.Rate(), o.Duration)
	}
	if res.Closed != 0 {
		t.Errorf("%d connections closed: keep-alive must hold, 500s included", res.Closed)
	}
	if len(edges) != 2 || !edges[0] || edges[1] {
		t.Errorf("OnWindow calls %v, want [true false]", edges)
	}
	if total := n.Load(); total < res.OK+res.Errors {
		t.Errorf("server saw %d requests, fewer than the %d measured", total, res.OK+res.Errors)
	}
}

func TestRunSendsHeadersAndExpectsNotModified(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"7-abc"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte(`{"flags":[]}`))
	}))
	defer srv.Close()
	tests := []struct {
		name       string
		header     http.Header
		wantErrors bool
	}{
		{"matching etag", http.Header{"If-None-Match": {`"7-abc"`}}, false},
		{"stale etag", http.Header{"If-None-Match": {`"6-abc"`}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Target{Method: http.MethodPost, URL: srv.URL, Header: tt.header, Expect: http.StatusNotModified}, quick)
			if err != nil {
				t.Fatal(err)
			}
			if gotErrors := res.Errors > 0; gotErrors != tt.wantErrors || (!tt.wantErrors && res.OK == 0) {
				t.Errorf("OK %d, errors %d (%q); want errors: %v", res.OK, res.Errors, res.Samples, tt.wantErrors)
			}
		})
	}
}

func TestRunCountsConnectionsClosedDuringTheWindow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Target{Method: http.MethodPost, URL: srv.URL, Expect: http.StatusOK}, quick)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Closed == 0 {
		t.Errorf("OK %d, closed %d: a server closing every connection must show closes in the window", res.OK, res.Closed)
	}
}

func TestRunReportsTransportErrorsAndCancellation(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	res, err := Run(context.Background(), Target{Method: http.MethodPost, URL: url, Expect: http.StatusOK}, quick)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Errors == 0 || len(res.Samples) == 0 || !strings.Contains(res.Samples[0], "connect") {
		t.Errorf("OK %d, errors %d, samples %q: want only connection errors", res.OK, res.Errors, res.Samples)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Target{Method: http.MethodPost, URL: url, Expect: http.StatusOK}, quick); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err %v, want context.Canceled", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"valid", quick, ""},
		{"no connections", Options{Conns: 0, Duration: time.Second, Timeout: time.Second}, "connections must be at least 1"},
		{"negative warm-up", Options{Conns: 1, Warmup: -1, Duration: time.Second, Timeout: time.Second}, "warm-up must not be negative"},
		{"zero duration", Options{Conns: 1, Timeout: time.Second}, "duration must be positive"},
		{"zero timeout", Options{Conns: 1, Duration: time.Second}, "request timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to mention %q", err, tt.want)
			}
			if _, err := Run(context.Background(), Target{}, tt.o); err == nil {
				t.Error("Run accepted options Validate refuses")
			}
		})
	}
}
