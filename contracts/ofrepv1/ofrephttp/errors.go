package ofrephttp

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// maxErrorBody is how much of an unexpected response's body an *HTTPError keeps.
const maxErrorBody = 512

// EvaluationError is the server's OFREP answer that a flag (or a bulk request) cannot be
// evaluated: a 400 or 404 with an error code (or, against the protocol, a single 200 with
// one). It is not a failure of the server; a circuit breaker must not count it.
type EvaluationError struct {
	Status       int    // HTTP status: 404 for FLAG_NOT_FOUND, 400 for the others
	Key          string // the flag asked for; empty for a bulk request
	ErrorCode    string // ofrepv1.ErrorFlagNotFound, ofrepv1.ErrorInvalidContext, ...
	ErrorDetails string // the server's explanation, for people
}

func (e *EvaluationError) Error() string {
	if e.ErrorDetails == "" {
		return fmt.Sprintf("%s (HTTP %d)", e.ErrorCode, e.Status)
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", e.ErrorCode, e.ErrorDetails, e.Status)
}

// StatusCode returns the HTTP status of the response.
func (e *EvaluationError) StatusCode() int { return e.Status }

// HTTPError is a response that is neither a result nor an OFREP evaluation error:
// 401, 403, 429, 5xx, a 304 to an unconditional request, or a 400/404 without an OFREP
// error body.
type HTTPError struct {
	Status int
	Body   string // the start of the response body (at most 512 bytes), for logs
	// RetryAfter is the response's Retry-After (seconds or an HTTP date, capped at a day);
	// 0 when it has none. A 503 while the server loads, or over its stream limit, has one.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// StatusCode returns the HTTP status of the response.
func (e *HTTPError) StatusCode() int { return e.Status }

// truncate returns at most the first n bytes of b as valid UTF-8, marked with "…" when
// cut. A cut never splits a character.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	cut := n
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(b[cut]); i++ {
		cut--
	}
	return strings.ToValidUTF8(string(b[:cut]), "\uFFFD") + "…"
}
