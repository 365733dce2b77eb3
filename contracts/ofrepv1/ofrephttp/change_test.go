package ofrephttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
)

func TestEvaluateFlagsOnChange(t *testing.T) {
	tests := []struct {
		name      string
		ev        ofrepv1.ChangeEvent
		wantQuery url.Values
	}{
		{"etag and last modified", ofrepv1.ChangeEvent{Type: "refetchEvaluation", ETag: `"c7-ab"`, LastModified: "1771622898"},
			url.Values{"flagConfigEtag": {`"c7-ab"`}, "flagConfigLastModified": {"1771622898"}}},
		{"a date", ofrepv1.ChangeEvent{Type: "refetchEvaluation", LastModified: "2026-02-20T21:28:18Z"},
			url.Values{"flagConfigLastModified": {"2026-02-20T21:28:18Z"}}},
		{"neither", ofrepv1.ChangeEvent{Type: "refetchEvaluation"}, url.Values{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			srv := newServer(t, http.StatusNotModified, "", "ETag", `"7-x"`)
			srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				w.Header().Set("ETag", `"7-x"`)
				w.WriteHeader(http.StatusNotModified)
			})
			res, err := newClient(t, srv.URL).EvaluateFlagsOnChange(context.Background(), nil, `"7-x"`, tt.ev)
			if err != nil || !res.NotModified {
				t.Fatalf("EvaluateFlagsOnChange = %+v, %v; want not modified", res, err)
			}
			if got.URL.Path != "/ofrep/v1/evaluate/flags" || got.Header.Get("If-None-Match") != `"7-x"` {
				t.Fatalf("request %s with If-None-Match %q", got.URL.Path, got.Header.Get("If-None-Match"))
			}
			if q := got.URL.Query(); q.Encode() != tt.wantQuery.Encode() {
				t.Fatalf("query = %v, want %v", q, tt.wantQuery)
			}
		})
	}
}

func TestBulkEventStreams(t *testing.T) {
	srv := newServer(t, http.StatusOK, `{"flags":[],"eventStreams":[{"type":"sse","endpoint":{"requestUri":"/ofrep/v1/events"}},{"type":"carrier-pigeon","url":"https://x"}]}`)
	c := newClient(t, srv.URL)
	res, err := c.EvaluateFlags(context.Background(), nil, "")
	if err != nil || len(res.EventStreams) != 2 {
		t.Fatalf("EvaluateFlags = %+v, %v; want two event streams", res, err)
	}
	u, err := c.StreamURL(res.EventStreams[0])
	if err != nil || u != srv.URL+"/ofrep/v1/events" {
		t.Fatalf("StreamURL = %q, %v", u, err)
	}
	if res.EventStreams[1].Type != "carrier-pigeon" {
		t.Fatalf("unknown stream types must be kept for the caller to ignore: %+v", res.EventStreams)
	}
}

func TestFetchSnapshot(t *testing.T) {
	const body = `{"$schema":"https://flagd.dev/schema/v0/flags.json","environment":"development","revision":4,` +
		`"flags":{"f":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}},"metadata":{"team":"a"}}`
	tests := []struct {
		name        string
		ifNoneMatch string
		status      int
		body        string
		headers     []string
		wantETag    string
		wantNotMod  bool
		wantHTTP    *ofrephttp.HTTPError
		wantOther   string
	}{
		{name: "snapshot", status: 200, body: body, headers: []string{"ETag", `"c4-ab"`, "Last-Modified", "Sat, 01 Mar 2025 12:00:00 GMT"}, wantETag: `"c4-ab"`},
		{name: "not modified", ifNoneMatch: `"c4-ab"`, status: 304, headers: []string{"ETag", `"c4-ab"`}, wantETag: `"c4-ab"`, wantNotMod: true},
		{name: "not modified without an ETag", ifNoneMatch: `"c4-ab"`, status: 304, wantETag: `"c4-ab"`, wantNotMod: true},
		{name: "304 to an unconditional request", status: 304, wantHTTP: &ofrephttp.HTTPError{Status: 304}},
		{name: "loading", status: 503, body: `{"status":503}`, headers: []string{"Retry-After", "1"},
			wantHTTP: &ofrephttp.HTTPError{Status: 503, Body: `{"status":503}`, RetryAfter: time.Second}},
		{name: "unauthorized", status: 401, wantHTTP: &ofrephttp.HTTPError{Status: 401}},
		{name: "not a snapshot", status: 200, body: `{"flags":[]}`, wantOther: "decode definitions snapshot"},
		{name: "no environment", status: 200, body: `{"revision":1,"flags":{}}`, wantOther: "environment is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.status, tt.body, tt.headers...)
			res, err := newClient(t, srv.URL+"/base", ofrephttp.WithHeader("Authorization", "Bearer s")).FetchSnapshot(context.Background(), tt.ifNoneMatch)
			req := srv.only(t)
			if req.method != http.MethodGet || req.path != "/base/sdk/v1/flags.json" || req.header.Get("If-None-Match") != tt.ifNoneMatch ||
				req.header.Get("Authorization") != "Bearer s" {
				t.Fatalf("request %s %s %v", req.method, req.path, req.header)
			}
			checkError(t, err, nil, tt.wantHTTP, tt.wantOther)
			if err != nil {
				return
			}
			if res.ETag != tt.wantETag || res.NotModified != tt.wantNotMod {
				t.Fatalf("result ETag %q NotModified %v, want %q %v", res.ETag, res.NotModified, tt.wantETag, tt.wantNotMod)
			}
			if tt.wantNotMod {
				if res.Body != nil || res.Snapshot.Flags != nil {
					t.Fatalf("a 304 came with a snapshot: %+v", res)
				}
				return
			}
			if string(res.Body) != body || res.Snapshot.Revision != 4 || res.Snapshot.Flags["f"].State != "ENABLED" ||
				!res.LastModified.Equal(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

func TestFetchSnapshotSizeIsLimited(t *testing.T) {
	chunk := []byte(strings.Repeat("x", 1<<20))
	tests := []struct {
		name  string
		serve http.HandlerFunc
	}{
		{"declared too long", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(ofrephttp.MaxSnapshotBytes+1))
			w.WriteHeader(http.StatusOK) // and never sends it: the client must not wait for it
		}},
		{"chunked past the limit", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"environment":"e","revision":1,"flags":{},"pad":"`))
			for written := 0; written <= ofrephttp.MaxSnapshotBytes; written += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.serve)
			defer srv.Close()
			_, err := newClient(t, srv.URL).FetchSnapshot(context.Background(), "")
			if err == nil || !strings.Contains(err.Error(), "exceeds") {
				t.Fatalf("FetchSnapshot of an oversized body = %v, want a size error", err)
			}
			var he *ofrephttp.HTTPError
			if errors.As(err, &he) {
				t.Fatalf("an oversized body is not an HTTP error: %v", err)
			}
		})
	}
}
