package ofrephttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// MaxResponseBytes bounds a response body: a larger one is an error, never decoded.
const MaxResponseBytes = 10 << 20

// DefaultTimeout is the whole-exchange timeout of the *http.Client that New makes when it
// is given none. It is a safety net: callers bound each call with their context.
const DefaultTimeout = 10 * time.Second

const (
	headerETag        = "ETag"
	headerIfNoneMatch = "If-None-Match"
	mimeJSON          = "application/json"
)

// Client calls one OFREP server. It is safe for concurrent use.
type Client struct {
	base       string // scheme://host[/path], no trailing slash
	http       *http.Client
	header     http.Header   // extra headers sent with every request
	streamIdle time.Duration // Watch's idle timeout; 0 for DefaultStreamIdleTimeout
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient makes the client send its requests through hc (its transport, TLS
// settings and timeout) instead of a new *http.Client with DefaultTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		c.http = hc
		return nil
	}
}

// WithHeader adds a header to every request, an API key or an Authorization bearer token
// say. It may be repeated; the headers the protocol needs (Content-Type, Accept,
// If-None-Match, ...) cannot be set this way.
func WithHeader(name, value string) Option {
	return func(c *Client) error {
		if !validHeaderName(name) {
			return fmt.Errorf("WithHeader: invalid header name %q", name)
		}
		switch canonical := http.CanonicalHeaderKey(name); canonical {
		case "Accept", "Content-Type", "Content-Length", "Host", headerIfNoneMatch:
			return fmt.Errorf("WithHeader: %s is set by the client", canonical)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return fmt.Errorf("WithHeader: the value of %s contains a line break or NUL", name)
		}
		c.header.Add(name, value)
		return nil
	}
}

// New returns a client of the OFREP server at baseURL, an absolute http or https URL
// that the OFREP paths (/ofrep/v1/...) are appended to; it may have a path prefix.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("ofrephttp: base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("ofrephttp: base URL %q: scheme must be http or https", baseURL)
	case u.Host == "":
		return nil, fmt.Errorf("ofrephttp: base URL %q has no host", baseURL)
	case u.User != nil:
		return nil, fmt.Errorf("ofrephttp: base URL %q: credentials in the URL are not supported, use WithHeader", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("ofrephttp: base URL %q must have no query or fragment", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	c := &Client{
		base:   u.String(),
		http:   &http.Client{Timeout: DefaultTimeout},
		header: http.Header{},
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("ofrephttp: %w", err)
		}
	}
	return c, nil
}

// EvaluateFlag evaluates the flag key in evalCtx (nil is an empty context): POST
// /ofrep/v1/evaluate/flags/{key}. A success may have no Value: use the code default then
// (see the package documentation). A 400 or 404 OFREP error is an *EvaluationError; any
// other failing status is an *HTTPError.
func (c *Client) EvaluateFlag(ctx context.Context, key string, evalCtx map[string]any) (ofrepv1.Evaluation, error) {
	if key == "" {
		return ofrepv1.Evaluation{}, errors.New("evaluate flag: empty key")
	}
	resp, err := c.post(ctx, c.base+ofrepv1.PathEvaluateFlags+"/"+escapeKey(key), evalCtx, "")
	if err != nil {
		return ofrepv1.Evaluation{}, fmt.Errorf("evaluate flag %q: %w", key, err)
	}
	switch resp.status {
	case http.StatusOK:
		var ev ofrepv1.Evaluation
		if err := json.Unmarshal(resp.body, &ev); err != nil {
			return ofrepv1.Evaluation{}, fmt.Errorf("evaluate flag %q: decode response (HTTP 200): %w", key, err)
		}
		if ev.ErrorCode != "" { // not OFREP, but never to be taken for a success
			return ofrepv1.Evaluation{}, fmt.Errorf("evaluate flag %q: %w", key,
				&EvaluationError{Status: resp.status, Key: key, ErrorCode: ev.ErrorCode, ErrorDetails: ev.ErrorDetails})
		}
		dropNullValue(&ev)
		return ev, nil
	case http.StatusBadRequest, http.StatusNotFound:
		var ev ofrepv1.Evaluation
		if json.Unmarshal(resp.body, &ev) == nil && ev.ErrorCode != "" {
			return ofrepv1.Evaluation{}, fmt.Errorf("evaluate flag %q: %w", key,
				&EvaluationError{Status: resp.status, Key: key, ErrorCode: ev.ErrorCode, ErrorDetails: ev.ErrorDetails})
		}
	}
	return ofrepv1.Evaluation{}, fmt.Errorf("evaluate flag %q: %w", key, resp.httpError())
}

// BulkResult is the outcome of a bulk evaluation.
type BulkResult struct {
	// Flags are the results of every flag the server evaluated, nil when NotModified.
	// An item with ErrorCode set is that flag's failure (a partial failure): the other
	// items are still good.
	Flags []ofrepv1.Evaluation
	// ETag identifies the results; send it as ifNoneMatch next time. It may be empty when
	// the server sends none.
	ETag string
	// NotModified reports a 304: the results cached under the ifNoneMatch sent are current.
	NotModified bool
	// EventStreams are where the server announces changes (OFREP ADR-0008): connect to
	// those of type ofrepv1.EventStreamTypeSSE (URL from StreamURL) with Watch. Nil on a
	// 304 (keep the ones you had) and when the server offers none (keep polling).
	EventStreams []ofrepv1.EventStream
}

// EvaluateFlags evaluates every flag in evalCtx (nil is an empty context): POST
// /ofrep/v1/evaluate/flags, with If-None-Match when ifNoneMatch is not empty. A 304 is
// not an error: the result has NotModified set and the ETag the server repeated (or
// ifNoneMatch when it repeated none). A 400 OFREP error is an *EvaluationError without
// Key; any other failing status is an *HTTPError.
func (c *Client) EvaluateFlags(ctx context.Context, evalCtx map[string]any, ifNoneMatch string) (BulkResult, error) {
	return c.evaluateFlags(ctx, c.base+ofrepv1.PathEvaluateFlags, evalCtx, ifNoneMatch)
}

// EvaluateFlagsOnChange is EvaluateFlags for a refetch that the change event ev
// triggered: as OFREP asks, it adds ev's etag and lastModified as the flagConfigEtag and
// flagConfigLastModified query parameters (each only when set), which tell the server
// what configuration the client expects to see. Use EvaluateFlags for every other fetch
// (the first one, after a reconnect, on a context change).
func (c *Client) EvaluateFlagsOnChange(ctx context.Context, evalCtx map[string]any, ifNoneMatch string, ev ofrepv1.ChangeEvent) (BulkResult, error) {
	target := c.base + ofrepv1.PathEvaluateFlags
	q := url.Values{}
	if ev.ETag != "" {
		q.Set(ofrepv1.QueryFlagConfigETag, ev.ETag)
	}
	if ev.LastModified != "" {
		q.Set(ofrepv1.QueryFlagConfigLastModified, ev.LastModified)
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return c.evaluateFlags(ctx, target, evalCtx, ifNoneMatch)
}

func (c *Client) evaluateFlags(ctx context.Context, target string, evalCtx map[string]any, ifNoneMatch string) (BulkResult, error) {
	resp, err := c.post(ctx, target, evalCtx, ifNoneMatch)
	if err != nil {
		return BulkResult{}, fmt.Errorf("evaluate flags: %w", err)
	}
	switch resp.status {
	case http.StatusOK:
		var bulk ofrepv1.BulkEvaluation
		if err := json.Unmarshal(resp.body, &bulk); err != nil {
			return BulkResult{}, fmt.Errorf("evaluate flags: decode response (HTTP 200): %w", err)
		}
		for i := range bulk.Flags {
			dropNullValue(&bulk.Flags[i])
		}
		return BulkResult{Flags: bulk.Flags, ETag: resp.header.Get(headerETag), EventStreams: bulk.EventStreams}, nil
	case http.StatusNotModified:
		if ifNoneMatch == "" {
			break // a 304 to an unconditional request: nothing cached to keep
		}
		etag := resp.header.Get(headerETag)
		if etag == "" {
			etag = ifNoneMatch
		}
		return BulkResult{ETag: etag, NotModified: true}, nil
	case http.StatusBadRequest:
		var ge ofrepv1.GeneralError
		if json.Unmarshal(resp.body, &ge) == nil && ge.ErrorCode != "" {
			return BulkResult{}, fmt.Errorf("evaluate flags: %w",
				&EvaluationError{Status: resp.status, ErrorCode: ge.ErrorCode, ErrorDetails: ge.ErrorDetails})
		}
	}
	return BulkResult{}, fmt.Errorf("evaluate flags: %w", resp.httpError())
}

// response is a complete HTTP response, its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) httpError() *HTTPError {
	return &HTTPError{Status: r.status, Body: truncate(r.body, maxErrorBody), RetryAfter: retryAfter(r.header)}
}

// post sends an OFREP evaluation request and reads the whole response. The body is
// encoded deterministically (map keys sorted), so equal contexts make equal bodies and
// so equal bulk ETags.
func (c *Client) post(ctx context.Context, target string, evalCtx map[string]any, ifNoneMatch string) (response, error) {
	if evalCtx == nil {
		evalCtx = map[string]any{}
	}
	body, err := json.Marshal(ofrepv1.EvaluationRequest{Context: evalCtx})
	if err != nil {
		return response{}, fmt.Errorf("encode context: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return response{}, fmt.Errorf("new request: %w", err)
	}
	for name, values := range c.header {
		req.Header[name] = append([]string(nil), values...)
	}
	req.Header.Set("Content-Type", mimeJSON)
	req.Header.Set("Accept", mimeJSON)
	if ifNoneMatch != "" {
		req.Header.Set(headerIfNoneMatch, ifNoneMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err // a *url.Error naming the method and URL
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return response{}, fmt.Errorf("read response (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(data) > MaxResponseBytes {
		return response{}, fmt.Errorf("response body (HTTP %d) exceeds %d bytes", resp.StatusCode, MaxResponseBytes)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// escapeKey escapes a flag key as one path segment ('/' included). "." and ".." are
// escaped too: left alone, they would be read as the current or parent path segment.
func escapeKey(key string) string {
	if key == "." || key == ".." {
		return strings.Repeat("%2E", len(key))
	}
	return url.PathEscape(key)
}

// dropNullValue makes a JSON null value what OFREP means by it: no value.
func dropNullValue(ev *ofrepv1.Evaluation) {
	if bytes.Equal(ev.Value, []byte("null")) {
		ev.Value = nil
	}
}

// validHeaderName reports whether name is an HTTP token (RFC 9110, section 5.6.2).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}
