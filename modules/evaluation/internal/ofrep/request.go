package ofrep

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

// maxPooledBuffer keeps the odd large request from pinning a large buffer in the pool.
const maxPooledBuffer = 64 << 10

// bufferPool recycles request and response buffers across requests of one API.
type bufferPool struct {
	pool sync.Pool
}

func (p *bufferPool) get() *bytes.Buffer {
	if buf, ok := p.pool.Get().(*bytes.Buffer); ok {
		buf.Reset()
		return buf
	}
	return new(bytes.Buffer)
}

func (p *bufferPool) put(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		p.pool.Put(buf)
	}
}

// readBody reads the request body into a pooled buffer (release it with a.buffers.put). An
// empty body is allowed: OFREP treats it as an empty context. A body over the limit is
// a 413 problem, as everywhere else in Switchyard.
func (a *API) readBody(c echo.Context) (*bytes.Buffer, error) {
	buf := a.buffers.get()
	_, err := buf.ReadFrom(io.LimitReader(c.Request().Body, httpx.MaxBodyBytes+1))
	if err != nil {
		a.buffers.put(buf)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return nil, he // echo's body limit: 413
		}
		return nil, apperr.New(apperr.Invalid, "read request body: %v", err)
	}
	if buf.Len() > httpx.MaxBodyBytes {
		a.buffers.put(buf)
		return nil, echo.ErrStatusRequestEntityTooLarge
	}
	return buf, nil
}

// requestError is a request OFREP refuses with 400 and an error code.
type requestError struct {
	code    string
	details string
}

// parseContext returns the context object of an OFREP evaluation request (nil when the
// body is empty or the context absent or null). Unknown top-level fields are ignored:
// providers may send more than the context.
func parseContext(body []byte) (json.RawMessage, *requestError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var req struct {
		Context json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &requestError{code: ofrepv1.ErrorParse, details: describe(err)}
	}
	switch {
	case len(req.Context) == 0 || string(req.Context) == "null":
		return nil, nil
	case req.Context[0] == '{':
		return req.Context, nil
	default:
		return nil, &requestError{code: ofrepv1.ErrorInvalidContext, details: "context must be a JSON object, got " + jsonKind(req.Context[0])}
	}
}

func describe(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field == "" {
		return "request body must be a JSON object, got " + typ.Value
	}
	var ae *apperr.Error
	if errors.As(httpx.DescribeJSONError(err), &ae) {
		return ae.Detail
	}
	return err.Error()
}

func jsonKind(first byte) string {
	switch first {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// flagKey returns the {key} path parameter, decoded. echo matches on the raw path when
// the request path has escapes (a key with '/', say), leaving the parameter escaped.
func flagKey(c echo.Context) string {
	key := c.Param("key")
	if c.Request().URL.RawPath == "" {
		return key
	}
	if decoded, err := url.PathUnescape(key); err == nil {
		return decoded
	}
	return key
}
