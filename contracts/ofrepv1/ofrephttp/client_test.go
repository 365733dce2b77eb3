package ofrephttp_test

import (
	"context"
	"errors"
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

// seen is a request as the server received it.
type seen struct {
	method, path, rawPath, body string
	header                      http.Header
}

// server is an OFREP server that answers every request with one canned response and
// records the requests it gets.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
}

func newServer(t *testing.T, status int, body string, headers ...string) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, seen{method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(), body: string(b), header: r.Header.Clone()})
		s.mu.Unlock()
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) only(t *testing.T) seen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) != 1 {
		t.Fatalf("server got %d requests, want 1", len(s.requests))
	}
	return s.requests[0]
}

func newClient(t *testing.T, baseURL string, opts ...ofrephttp.Option) *ofrephttp.Client {
	t.Helper()
	c, err := ofrephttp.New(baseURL, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", baseURL, err)
	}
	return c
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		opts    []ofrephttp.Option
		wantErr string // "" for success
	}{
		{"http", "http://127.0.0.1:8080", nil, ""},
		{"https with a path prefix and a trailing slash", "https://flags.example.com/switchyard/", nil, ""},
		{"options", "http://h", []ofrephttp.Option{ofrephttp.WithHTTPClient(&http.Client{}), ofrephttp.WithHeader("X-Api-Key", "k"), ofrephttp.WithHeader("Authorization", "Bearer t")}, ""},
		{"unparsable", "http://h:port", nil, "base URL"},
		{"relative", "/ofrep", nil, "scheme must be http or https"},
		{"other scheme", "ftp://h", nil, "scheme must be http or https"},
		{"no host", "http:///path", nil, "has no host"},
		{"credentials", "https://user:secret@h", nil, "credentials in the URL are not supported"},
		{"query", "http://h/?env=prod", nil, "no query or fragment"},
		{"empty query", "http://h/?", nil, "no query or fragment"},
		{"fragment", "http://h/#x", nil, "no query or fragment"},
		{"nil http client", "http://h", []ofrephttp.Option{ofrephttp.WithHTTPClient(nil)}, "nil *http.Client"},
		{"empty header name", "http://h", []ofrephttp.Option{ofrephttp.WithHeader("", "v")}, "invalid header name"},
		{"header name with a space", "http://h", []ofrephttp.Option{ofrephttp.WithHeader("X Key", "v")}, "invalid header name"},
		{"reserved header", "http://h", []ofrephttp.Option{ofrephttp.WithHeader("content-type", "text/plain")}, "Content-Type is set by the client"},
		{"reserved If-None-Match", "http://h", []ofrephttp.Option{ofrephttp.WithHeader("If-None-Match", "*")}, "If-None-Match is set by the client"},
		{"header value with a line break", "http://h", []ofrephttp.Option{ofrephttp.WithHeader("X-Key", "a\r\nX-Evil: 1")}, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ofrephttp.New(tt.baseURL, tt.opts...)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New() = %v, %v; want a client", c, err)
				}
				return
			}
			if err == nil || c != nil {
				t.Fatalf("New() = %v, %v; want an error containing %q", c, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q leaks the password", err)
			}
		})
	}
}

func TestEvaluateFlagRequest(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string
		key      string
		evalCtx  map[string]any
		wantPath string // as sent, escaped
		wantBody string
	}{
		{"plain key", "", "new-checkout", map[string]any{"targetingKey": "u1", "plan": "pro", "age": 42},
			"/ofrep/v1/evaluate/flags/new-checkout", `{"context":{"age":42,"plan":"pro","targetingKey":"u1"}}`},
		{"nil context is empty", "", "f", nil, "/ofrep/v1/evaluate/flags/f", `{"context":{}}`},
		{"key with a slash and a space", "", "team/checkout flow", nil, "/ofrep/v1/evaluate/flags/team%2Fcheckout%20flow", `{"context":{}}`},
		{"dot dot key", "", "..", nil, "/ofrep/v1/evaluate/flags/%2E%2E", `{"context":{}}`},
		{"base path prefix", "/switchyard/", "f", nil, "/switchyard/ofrep/v1/evaluate/flags/f", `{"context":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, http.StatusOK, `{"key":"f","reason":"STATIC","variant":"on","value":true}`)
			c := newClient(t, srv.URL+tt.prefix, ofrephttp.WithHeader("Authorization", "Bearer token-1"), ofrephttp.WithHeader("X-Api-Key", "k1"))
			if _, err := c.EvaluateFlag(context.Background(), tt.key, tt.evalCtx); err != nil {
				t.Fatalf("EvaluateFlag: %v", err)
			}
			req := srv.only(t)
			if req.method != http.MethodPost || req.rawPath != tt.wantPath || req.body != tt.wantBody {
				t.Fatalf("request = %s %s %s; want POST %s %s", req.method, req.rawPath, req.body, tt.wantPath, tt.wantBody)
			}
			for name, want := range map[string]string{
				"Content-Type": "application/json", "Accept": "application/json",
				"Authorization": "Bearer token-1", "X-Api-Key": "k1", "If-None-Match": "",
			} {
				if got := req.header.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestEvaluateFlagResponses(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		want      ofrepv1.Evaluation // for a success
		wantEval  *ofrephttp.EvaluationError
		wantHTTP  *ofrephttp.HTTPError
		wantOther string // an error that is neither
	}{
		{name: "success", status: 200, body: `{"key":"f","reason":"STATIC","variant":"on","value":true,"metadata":{"team":"x"}}`,
			want: ofrepv1.Evaluation{Key: "f", Reason: "STATIC", Variant: "on", Value: []byte(`true`), Metadata: map[string]any{"team": "x"}}},
		{name: "object value", status: 200, body: `{"key":"f","reason":"STATIC","variant":"cfg","value":{"a":[1,2]}}`,
			want: ofrepv1.Evaluation{Key: "f", Reason: "STATIC", Variant: "cfg", Value: []byte(`{"a":[1,2]}`)}},
		{name: "disabled: no value", status: 200, body: `{"key":"f","reason":"DISABLED","metadata":{}}`,
			want: ofrepv1.Evaluation{Key: "f", Reason: "DISABLED", Metadata: map[string]any{}}},
		{name: "null value is no value", status: 200, body: `{"key":"f","reason":"DEFAULT","value":null}`,
			want: ofrepv1.Evaluation{Key: "f", Reason: "DEFAULT"}},
		{name: "200 with an error code", status: 200, body: `{"key":"f","errorCode":"GENERAL","errorDetails":"boom"}`,
			wantEval: &ofrephttp.EvaluationError{Status: 200, Key: "f", ErrorCode: "GENERAL", ErrorDetails: "boom"}},
		{name: "200 that is not JSON", status: 200, body: `<html>portal</html>`, wantOther: "decode response (HTTP 200)"},
		{name: "not found", status: 404, body: `{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag 'f' not found"}`,
			wantEval: &ofrephttp.EvaluationError{Status: 404, Key: "f", ErrorCode: "FLAG_NOT_FOUND", ErrorDetails: "flag 'f' not found"}},
		{name: "invalid context", status: 400, body: `{"key":"f","errorCode":"INVALID_CONTEXT","errorDetails":"context must be a JSON object"}`,
			wantEval: &ofrephttp.EvaluationError{Status: 400, Key: "f", ErrorCode: "INVALID_CONTEXT", ErrorDetails: "context must be a JSON object"}},
		{name: "404 that is not OFREP", status: 404, body: `{"type":"about:blank","title":"Not Found","status":404}`,
			wantHTTP: &ofrephttp.HTTPError{Status: 404, Body: `{"type":"about:blank","title":"Not Found","status":404}`}},
		{name: "400 without a body", status: 400, wantHTTP: &ofrephttp.HTTPError{Status: 400}},
		{name: "unauthorized", status: 401, body: `{"title":"Unauthorized"}`, wantHTTP: &ofrephttp.HTTPError{Status: 401, Body: `{"title":"Unauthorized"}`}},
		{name: "forbidden", status: 403, wantHTTP: &ofrephttp.HTTPError{Status: 403}},
		{name: "too many requests", status: 429, wantHTTP: &ofrephttp.HTTPError{Status: 429}},
		{name: "server error with an OFREP body", status: 500, body: `{"errorCode":"GENERAL","errorDetails":"x"}`,
			wantHTTP: &ofrephttp.HTTPError{Status: 500, Body: `{"errorCode":"GENERAL","errorDetails":"x"}`}},
		{name: "unavailable", status: 503, body: `{"errorCode":"GENERAL","errorDetails":"evaluation snapshot is not loaded yet"}`,
			wantHTTP: &ofrephttp.HTTPError{Status: 503, Body: `{"errorCode":"GENERAL","errorDetails":"evaluation snapshot is not loaded yet"}`}},
		{name: "long body is truncated, never inside a character", status: 502, body: "x" + strings.Repeat("é", 600),
			wantHTTP: &ofrephttp.HTTPError{Status: 502, Body: "x" + strings.Repeat("é", 255) + "…"}},
		{name: "unexpected success status", status: 204, wantHTTP: &ofrephttp.HTTPError{Status: 204}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.status, tt.body)
			got, err := newClient(t, srv.URL).EvaluateFlag(context.Background(), "f", nil)
			checkError(t, err, tt.wantEval, tt.wantHTTP, tt.wantOther)
			if err != nil {
				if got.Key != "" || got.Value != nil {
					t.Fatalf("an error came with a result: %+v", got)
				}
				return
			}
			assertEvaluation(t, got, tt.want)
		})
	}
}

func TestEvaluateFlagFailsBeforeAResult(t *testing.T) {
	srv := newServer(t, 200, `{"key":"f","reason":"STATIC","value":true}`)
	c := newClient(t, srv.URL)

	if _, err := c.EvaluateFlag(context.Background(), "", nil); err == nil || !strings.Contains(err.Error(), "empty key") {
		t.Fatalf("empty key: err = %v", err)
	}
	if _, err := c.EvaluateFlag(context.Background(), "f", map[string]any{"bad": make(chan int)}); err == nil || !strings.Contains(err.Error(), "encode context") {
		t.Fatalf("unencodable context: err = %v", err)
	}
	srv.mu.Lock()
	n := len(srv.requests)
	srv.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d requests sent for calls that should fail before sending", n)
	}

	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, `{"key":`) // and the connection closes
	}))
	t.Cleanup(cut.Close)
	if _, err := newClient(t, cut.URL).EvaluateFlag(context.Background(), "f", nil); err == nil || !strings.Contains(err.Error(), "read response (HTTP 200)") {
		t.Fatalf("cut response: err = %v", err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err := newClient(t, closed.URL).EvaluateFlag(context.Background(), "f", nil)
	var he *ofrephttp.HTTPError
	if err == nil || errors.As(err, &he) {
		t.Fatalf("connection refused: err = %v, want a transport error", err)
	}
}

func TestContextIsRespected(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, srv.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.EvaluateFlag(ctx, "f", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("single: err = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("single: returned after %s", elapsed)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.EvaluateFlags(ctx, nil, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("bulk: err = %v, want context.Canceled", err)
	}
}

func TestResponseSizeIsLimited(t *testing.T) {
	big := `{"key":"f","reason":"STATIC","value":"` + strings.Repeat("x", ofrephttp.MaxResponseBytes) + `"}`
	srv := newServer(t, http.StatusOK, big)
	c := newClient(t, srv.URL)
	if _, err := c.EvaluateFlag(context.Background(), "f", nil); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("single: err = %v, want a size error", err)
	}
	if _, err := c.EvaluateFlags(context.Background(), nil, ""); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("bulk: err = %v, want a size error", err)
	}

	// Exactly at the limit is fine.
	pad := ofrephttp.MaxResponseBytes - len(`{"key":"f","reason":"STATIC","value":""}`)
	srv = newServer(t, http.StatusOK, `{"key":"f","reason":"STATIC","value":"`+strings.Repeat("x", pad)+`"}`)
	if _, err := newClient(t, srv.URL).EvaluateFlag(context.Background(), "f", nil); err != nil {
		t.Fatalf("body of exactly MaxResponseBytes: %v", err)
	}
}

func TestEvaluateFlagsRequest(t *testing.T) {
	tests := []struct {
		name            string
		evalCtx         map[string]any
		ifNoneMatch     string
		wantBody        string
		wantIfNoneMatch string
	}{
		{"unconditional", map[string]any{"targetingKey": "u1"}, "", `{"context":{"targetingKey":"u1"}}`, ""},
		{"conditional", nil, `"3-abc"`, `{"context":{}}`, `"3-abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, http.StatusOK, `{"flags":[]}`)
			c := newClient(t, srv.URL+"/base", ofrephttp.WithHeader("X-Api-Key", "k1"))
			if _, err := c.EvaluateFlags(context.Background(), tt.evalCtx, tt.ifNoneMatch); err != nil {
				t.Fatalf("EvaluateFlags: %v", err)
			}
			req := srv.only(t)
			if req.method != http.MethodPost || req.path != "/base/ofrep/v1/evaluate/flags" || req.body != tt.wantBody {
				t.Fatalf("request = %s %s %s; want POST /base/ofrep/v1/evaluate/flags %s", req.method, req.path, req.body, tt.wantBody)
			}
			if got := req.header.Get("If-None-Match"); got != tt.wantIfNoneMatch {
				t.Fatalf("If-None-Match = %q, want %q", got, tt.wantIfNoneMatch)
			}
			if req.header.Get("Content-Type") != "application/json" || req.header.Get("X-Api-Key") != "k1" {
				t.Fatalf("headers = %v", req.header)
			}
		})
	}
}

func TestEvaluateFlagsResponses(t *testing.T) {
	tests := []struct {
		name        string
		ifNoneMatch string
		status      int
		body        string
		headers     []string
		want        ofrephttp.BulkResult
		wantEval    *ofrephttp.EvaluationError
		wantHTTP    *ofrephttp.HTTPError
		wantOther   string
	}{
		{name: "results", status: 200, headers: []string{"ETag", `"7-abc"`},
			body: `{"flags":[{"key":"a","reason":"DISABLED","metadata":{}},{"key":"b","reason":"STATIC","variant":"on","value":true},` +
				`{"key":"c","reason":"DEFAULT","value":null},{"key":"d","errorCode":"GENERAL","errorDetails":"bad"}]}`,
			want: ofrephttp.BulkResult{ETag: `"7-abc"`, Flags: []ofrepv1.Evaluation{
				{Key: "a", Reason: "DISABLED", Metadata: map[string]any{}},
				{Key: "b", Reason: "STATIC", Variant: "on", Value: []byte(`true`)},
				{Key: "c", Reason: "DEFAULT"},
				{Key: "d", ErrorCode: "GENERAL", ErrorDetails: "bad"},
			}}},
		{name: "results without an ETag", status: 200, body: `{"flags":[]}`, want: ofrephttp.BulkResult{Flags: []ofrepv1.Evaluation{}}},
		{name: "not modified", ifNoneMatch: `"7-abc"`, status: 304, headers: []string{"ETag", `"7-abc"`},
			want: ofrephttp.BulkResult{ETag: `"7-abc"`, NotModified: true}},
		{name: "not modified without an ETag echoes If-None-Match", ifNoneMatch: `"7-abc"`, status: 304,
			want: ofrephttp.BulkResult{ETag: `"7-abc"`, NotModified: true}},
		{name: "not modified to an unconditional request", status: 304, wantHTTP: &ofrephttp.HTTPError{Status: 304}},
		{name: "200 that is not JSON", status: 200, body: `nope`, wantOther: "decode response (HTTP 200)"},
		{name: "bulk failure", status: 400, body: `{"errorCode":"INVALID_CONTEXT","errorDetails":"context must be a JSON object, got a string"}`,
			wantEval: &ofrephttp.EvaluationError{Status: 400, ErrorCode: "INVALID_CONTEXT", ErrorDetails: "context must be a JSON object, got a string"}},
		{name: "400 that is not OFREP", status: 400, body: `bad request`, wantHTTP: &ofrephttp.HTTPError{Status: 400, Body: "bad request"}},
		{name: "404 is not an evaluation error in bulk", status: 404, body: `{"errorCode":"FLAG_NOT_FOUND"}`,
			wantHTTP: &ofrephttp.HTTPError{Status: 404, Body: `{"errorCode":"FLAG_NOT_FOUND"}`}},
		{name: "unauthorized", status: 401, wantHTTP: &ofrephttp.HTTPError{Status: 401}},
		{name: "too many requests", status: 429, wantHTTP: &ofrephttp.HTTPError{Status: 429}},
		{name: "unavailable", status: 503, body: `{"errorCode":"GENERAL","errorDetails":"not loaded"}`,
			wantHTTP: &ofrephttp.HTTPError{Status: 503, Body: `{"errorCode":"GENERAL","errorDetails":"not loaded"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.status, tt.body, tt.headers...)
			got, err := newClient(t, srv.URL).EvaluateFlags(context.Background(), nil, tt.ifNoneMatch)
			checkError(t, err, tt.wantEval, tt.wantHTTP, tt.wantOther)
			if err != nil {
				if got.Flags != nil || got.ETag != "" || got.NotModified {
					t.Fatalf("an error came with a result: %+v", got)
				}
				return
			}
			if got.ETag != tt.want.ETag || got.NotModified != tt.want.NotModified {
				t.Fatalf("result = %+v, want %+v", got, tt.want)
			}
			if (got.Flags == nil) != (tt.want.Flags == nil) || len(got.Flags) != len(tt.want.Flags) {
				t.Fatalf("flags = %+v, want %+v", got.Flags, tt.want.Flags)
			}
			for i := range got.Flags {
				assertEvaluation(t, got.Flags[i], tt.want.Flags[i])
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&ofrephttp.EvaluationError{Status: 404, Key: "f", ErrorCode: "FLAG_NOT_FOUND", ErrorDetails: "no f"}, "FLAG_NOT_FOUND: no f (HTTP 404)"},
		{&ofrephttp.EvaluationError{Status: 400, ErrorCode: "PARSE_ERROR"}, "PARSE_ERROR (HTTP 400)"},
		{&ofrephttp.HTTPError{Status: 503, Body: "down"}, "HTTP 503 Service Unavailable: down"},
		{&ofrephttp.HTTPError{Status: 401}, "HTTP 401 Unauthorized"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}

	srv := newServer(t, 404, `{"key":"f","errorCode":"FLAG_NOT_FOUND","errorDetails":"no f"}`)
	_, err := newClient(t, srv.URL).EvaluateFlag(context.Background(), "f", nil)
	if want := `evaluate flag "f": FLAG_NOT_FOUND: no f (HTTP 404)`; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

// checkError asserts that err is the expected *EvaluationError, *HTTPError, other error
// (by substring) or nil when none is expected, and that both typed errors tell a circuit
// breaker their status.
func checkError(t *testing.T, err error, wantEval *ofrephttp.EvaluationError, wantHTTP *ofrephttp.HTTPError, wantOther string) {
	t.Helper()
	var ee *ofrephttp.EvaluationError
	var he *ofrephttp.HTTPError
	var sc interface{ StatusCode() int }
	switch {
	case wantEval != nil:
		if !errors.As(err, &ee) || *ee != *wantEval {
			t.Fatalf("err = %#v, want %#v", err, wantEval)
		}
		if !errors.As(err, &sc) || sc.StatusCode() != wantEval.Status {
			t.Fatalf("StatusCode() of %v is not %d", err, wantEval.Status)
		}
	case wantHTTP != nil:
		if !errors.As(err, &he) || *he != *wantHTTP {
			t.Fatalf("err = %#v, want %#v", err, wantHTTP)
		}
		if !errors.As(err, &sc) || sc.StatusCode() != wantHTTP.Status {
			t.Fatalf("StatusCode() of %v is not %d", err, wantHTTP.Status)
		}
	case wantOther != "":
		if err == nil || !strings.Contains(err.Error(), wantOther) || errors.As(err, &ee) || errors.As(err, &he) {
			t.Fatalf("err = %v, want a plain error containing %q", err, wantOther)
		}
	default:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
}

func assertEvaluation(t *testing.T, got, want ofrepv1.Evaluation) {
	t.Helper()
	if got.Key != want.Key || got.Reason != want.Reason || got.Variant != want.Variant ||
		got.ErrorCode != want.ErrorCode || got.ErrorDetails != want.ErrorDetails ||
		string(got.Value) != string(want.Value) || (got.Value == nil) != (want.Value == nil) ||
		len(got.Metadata) != len(want.Metadata) || (got.Metadata == nil) != (want.Metadata == nil) {
		t.Fatalf("evaluation = %+v (value %s), want %+v (value %s)", got, got.Value, want, want.Value)
	}
	for k, v := range want.Metadata {
		if got.Metadata[k] != v {
			t.Fatalf("metadata[%s] = %v, want %v", k, got.Metadata[k], v)
		}
	}
}
