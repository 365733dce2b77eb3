package ofrephttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
)

// streamServer serves one event stream per request with serve, after recording the
// request's headers.
func streamServer(t *testing.T, serve func(w http.ResponseWriter, r *http.Request, flush func())) (*httptest.Server, func() http.Header) {
	t.Helper()
	var mu sync.Mutex
	var last http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Header.Clone()
		mu.Unlock()
		flush := func() { _ = http.NewResponseController(w).Flush() }
		serve(w, r, flush)
	}))
	t.Cleanup(srv.Close)
	return srv, func() http.Header {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func eventStreamHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
}

func TestWatchDeliversRefetchEvents(t *testing.T) {
	srv, lastHeader := streamServer(t, func(w http.ResponseWriter, r *http.Request, flush func()) {
		eventStreamHeaders(w)
		_, _ = io.WriteString(w, "retry: 1500\n: connected\n\n"+
			"id: c1-x\nevent: message\ndata: {\"type\":\"refetchEvaluation\",\"etag\":\"\\\"c1-x\\\"\",\"lastModified\":1771622898}\n\n"+
			"data: {\"type\":\"somethingNew\"}\n\n"+ // an unknown type: skipped
			"event: other\ndata: {\"type\":\"refetchEvaluation\",\"etag\":\"named\"}\n\n"+ // not a message: skipped
			"data: not json\n\n"+ // skipped
			":\n\n"+
			"id: c2-x\ndata: {\"type\":\"refetchEvaluation\",\n"+
			"data:  \"etag\":\"\\\"c2-x\\\"\"}\n\n") // multi-line data
		flush()
	})
	c := newClient(t, srv.URL, ofrephttp.WithHeader("Authorization", "Bearer sdk-token"))
	var got []ofrepv1.ChangeEvent
	err := c.Watch(context.Background(), srv.URL+"/ofrep/v1/events?token=secret", func(ev ofrepv1.ChangeEvent) { got = append(got, ev) })

	want := []ofrepv1.ChangeEvent{
		{Type: "refetchEvaluation", ETag: `"c1-x"`, LastModified: "1771622898"},
		{Type: "refetchEvaluation", ETag: `"c2-x"`},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events = %+v, want %+v", got, want)
	}
	var ended *ofrephttp.StreamEndedError
	if !errors.As(err, &ended) || !errors.Is(err, io.EOF) {
		t.Fatalf("Watch returned %v, want a *StreamEndedError wrapping io.EOF", err)
	}
	if ended.Retry != 1500*time.Millisecond || ended.LastEventID != "c2-x" || ended.Events != 2 {
		t.Fatalf("ended = %+v, want Retry 1.5s, LastEventID c2-x, Events 2", ended)
	}
	h := lastHeader()
	if h.Get("Accept") != "text/event-stream" || h.Get("Authorization") != "Bearer sdk-token" || h.Get("Cache-Control") != "no-cache" {
		t.Fatalf("request headers = %v", h)
	}
}

func TestWatchRefusals(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		retryAfter  string
		body        string
		want        ofrephttp.HTTPError
	}{
		{"over the stream limit", 503, "application/problem+json", "5", `{"status":503}`,
			ofrephttp.HTTPError{Status: 503, Body: `{"status":503}`, RetryAfter: 5 * time.Second}},
		{"no stream here", 404, "text/plain", "", "not found", ofrephttp.HTTPError{Status: 404, Body: "not found"}},
		{"unauthorized", 401, "", "", "", ofrephttp.HTTPError{Status: 401}},
		{"a 200 that is not a stream", 200, "application/json", "", `{"flags":[]}`,
			ofrephttp.HTTPError{Status: 200, Body: "not an event stream (Content-Type application/json)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := streamServer(t, func(w http.ResponseWriter, r *http.Request, flush func()) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			called := false
			err := newClient(t, srv.URL).Watch(context.Background(), srv.URL+"/ofrep/v1/events", func(ofrepv1.ChangeEvent) { called = true })
			var he *ofrephttp.HTTPError
			if !errors.As(err, &he) || *he != tt.want {
				t.Fatalf("Watch returned %#v, want %#v", err, tt.want)
			}
			if called {
				t.Fatal("the callback was called on a refused stream")
			}
		})
	}
}

func TestWatchIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, _ := streamServer(t, func(w http.ResponseWriter, r *http.Request, flush func()) {
		eventStreamHeaders(w)
		_, _ = io.WriteString(w, ": connected\n\n")
		flush()
		select { // then silence: a stalled proxy
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := newClient(t, srv.URL, ofrephttp.WithStreamIdleTimeout(200*time.Millisecond))
	start := time.Now()
	err := c.Watch(context.Background(), srv.URL, func(ofrepv1.ChangeEvent) {})
	if !errors.Is(err, ofrephttp.ErrStreamIdle) {
		t.Fatalf("Watch returned %v, want ErrStreamIdle", err)
	}
	var ended *ofrephttp.StreamEndedError
	if !errors.As(err, &ended) {
		t.Fatalf("Watch returned %T, want *StreamEndedError", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("idle stream ended after %v", d)
	}
}

func TestWatchHeartbeatsKeepAStreamAlive(t *testing.T) {
	srv, _ := streamServer(t, func(w http.ResponseWriter, r *http.Request, flush func()) {
		eventStreamHeaders(w)
		for range 10 { // 10 x 60 ms: longer than both timeouts below, never silent for long
			_, _ = io.WriteString(w, ":\n\n")
			flush()
			time.Sleep(60 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "data: {\"type\":\"refetchEvaluation\"}\n\n")
	})
	// The client's whole-exchange timeout bounds the wait for headers, not the stream.
	c := newClient(t, srv.URL, ofrephttp.WithStreamIdleTimeout(300*time.Millisecond),
		ofrephttp.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	events := 0
	err := c.Watch(context.Background(), srv.URL, func(ofrepv1.ChangeEvent) { events++ })
	if !errors.Is(err, io.EOF) || events != 1 {
		t.Fatalf("Watch returned %v after %d events, want io.EOF after 1", err, events)
	}
}

func TestWatchHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, _ := streamServer(t, func(w http.ResponseWriter, r *http.Request, flush func()) {
		select { // never answers
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := newClient(t, srv.URL, ofrephttp.WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}))
	start := time.Now()
	err := c.Watch(context.Background(), srv.URL+"/events?token=secret", func(ofrepv1.ChangeEvent) {})
	var ended *ofrephttp.StreamEndedError
	if err == nil || errors.As(err, &ended) || !strings.Contains(err.Error(), "no response headers within 200ms") {
		t.Fatalf("Watch returned %v, want a header timeout", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %q leaks the stream URL's query", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("header timeout took %v", d)
	}
}

func TestWatchEndsWithItsContext(t *testing.T) {
	srv, _ := streamServer(t, func(w http.ResponseWriter, r *http.Request, flush func()) {
		eventStreamHeaders(w)
		_, _ = io.WriteString(w, "data: {\"type\":\"refetchEvaluation\",\"etag\":\"e\"}\n\n")
		flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newClient(t, srv.URL).Watch(ctx, srv.URL, func(ofrepv1.ChangeEvent) { cancel() })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after its context was cancelled")
	}
}

func TestWatchBadArguments(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1")
	if err := c.Watch(context.Background(), "http://127.0.0.1:1/e", nil); err == nil || !strings.Contains(err.Error(), "nil callback") {
		t.Errorf("nil callback: %v", err)
	}
	for _, u := range []string{"/ofrep/v1/events", "ftp://h/e", "http://"} {
		if err := c.Watch(context.Background(), u, func(ofrepv1.ChangeEvent) {}); err == nil || !strings.Contains(err.Error(), "not an absolute http or https URL") {
			t.Errorf("Watch(%q) = %v, want a URL error", u, err)
		}
	}
	if _, err := ofrephttp.New("http://h", ofrephttp.WithStreamIdleTimeout(0)); err == nil {
		t.Error("WithStreamIdleTimeout(0) was accepted")
	}
}

func TestStreamURL(t *testing.T) {
	c := newClient(t, "https://flags.example.com/switchyard")
	got, err := c.StreamURL(ofrepv1.EventStream{Type: "sse", Endpoint: &ofrepv1.EventStreamEndpoint{RequestURI: "/ofrep/v1/events"}})
	if err != nil || got != "https://flags.example.com/ofrep/v1/events" {
		t.Fatalf("StreamURL = %q, %v", got, err)
	}
}
