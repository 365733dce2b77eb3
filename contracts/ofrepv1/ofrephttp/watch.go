package ofrephttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// DefaultStreamIdleTimeout is how long Watch lets a stream stay silent (no event, no
// heartbeat) before it gives up on it: three of Switchyard's 15 s heartbeats.
const DefaultStreamIdleTimeout = 45 * time.Second

// ErrStreamIdle is why a stream ended that sent nothing for the idle timeout: the
// connection is presumed dead (a proxy that stalls, a peer that vanished).
var ErrStreamIdle = errors.New("event stream: idle timeout, no event or heartbeat")

const mimeEventStream = "text/event-stream"

// StreamEndedError is how Watch reports a stream that was open and ended: the server
// closed it (Err is io.EOF), it went idle (ErrStreamIdle), a line was too long
// (ErrLineTooLong), or reading failed. Reconnect after about Retry, with jitter.
type StreamEndedError struct {
	Retry       time.Duration // the server's last retry hint; 0 when it sent none
	LastEventID string        // the last event id the stream sent
	Events      int           // change events delivered to the callback on this connection
	Err         error
}

func (e *StreamEndedError) Error() string {
	return fmt.Sprintf("event stream ended after %d events: %v", e.Events, e.Err)
}

func (e *StreamEndedError) Unwrap() error { return e.Err }

// WithStreamIdleTimeout sets how long Watch waits for any byte of a stream (an event or
// a heartbeat) before ending it with ErrStreamIdle; DefaultStreamIdleTimeout otherwise.
func WithStreamIdleTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("WithStreamIdleTimeout: %v is not positive", d)
		}
		c.streamIdle = d
		return nil
	}
}

// StreamURL resolves an event stream of a response against the client's base URL (see
// ofrepv1.EventStream.Resolve).
func (c *Client) StreamURL(s ofrepv1.EventStream) (string, error) {
	return s.Resolve(c.base)
}

// Watch listens to the OFREP event stream at streamURL (an absolute URL, from StreamURL)
// and calls fn with every refetchEvaluation event, in order, on Watch's goroutine: keep
// fn short (hand the event over, coalesce, refetch elsewhere). Events of other types,
// other SSE event names than "message", and data that is not a change event are skipped.
//
// The request carries the client's WithHeader headers. Its response headers must arrive
// within the client's timeout (DefaultTimeout by default); after that the stream has no
// deadline but must show a byte at least every stream idle timeout.
//
// Watch never returns nil: ctx's error when ctx ends; an *HTTPError when the server
// refuses the stream (any status but 200, or a 200 that is not text/event-stream;
// RetryAfter tells a 503's wait); a *StreamEndedError once an open stream ends; any other
// error when the request could not be made. The caller reconnects, with jittered backoff.
func (c *Client) Watch(ctx context.Context, streamURL string, fn func(ofrepv1.ChangeEvent)) error {
	if fn == nil {
		return errors.New("watch: nil callback")
	}
	u, err := url.Parse(streamURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("watch: the stream URL is not an absolute http or https URL")
	}
	where := u.Scheme + "://" + u.Host + u.Path // never the query: it may hold a token

	streamCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(streamCtx, http.MethodGet, streamURL, nil)
	if err != nil {
		return fmt.Errorf("watch %s: new request: %w", where, err)
	}
	for name, values := range c.header {
		req.Header[name] = append([]string(nil), values...)
	}
	req.Header.Set("Accept", mimeEventStream)
	req.Header.Set("Cache-Control", "no-cache")

	hc := *c.http
	hc.Timeout = 0 // a stream lasts: its header wait and its silences are bounded below instead
	headerWait := c.http.Timeout
	if headerWait <= 0 {
		headerWait = DefaultTimeout
	}
	errHeaderTimeout := fmt.Errorf("no response headers within %v", headerWait)
	headerTimer := time.AfterFunc(headerWait, func() { cancel(errHeaderTimeout) })
	resp, err := hc.Do(req)
	headerTimer.Stop()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cause := context.Cause(streamCtx); errors.Is(cause, errHeaderTimeout) {
			err = cause
		}
		return fmt.Errorf("watch %s: %w", where, err)
	}
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode != http.StatusOK || !isEventStream(resp.Header.Get("Content-Type")) {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		herr := &HTTPError{Status: resp.StatusCode, Body: truncate(body, maxErrorBody), RetryAfter: retryAfter(resp.Header)}
		if resp.StatusCode == http.StatusOK {
			herr.Body = "not an event stream (Content-Type " + resp.Header.Get("Content-Type") + ")"
		}
		return fmt.Errorf("watch %s: %w", where, herr)
	}

	idle := c.streamIdle
	if idle <= 0 {
		idle = DefaultStreamIdleTimeout
	}
	body := &idleReader{r: resp.Body}
	watchdog := time.AfterFunc(idle, func() { cancel(ErrStreamIdle) })
	defer watchdog.Stop()
	body.onRead = func() { watchdog.Reset(idle) }

	sse := NewSSEReader(body, DefaultMaxSSELine)
	events := 0
	for {
		ev, err := sse.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if cause := context.Cause(streamCtx); errors.Is(cause, ErrStreamIdle) {
				err = ErrStreamIdle
			}
			return &StreamEndedError{Retry: sse.Retry(), LastEventID: sse.LastEventID(), Events: events, Err: err}
		}
		if ev.Event != ofrepv1.SSEEventMessage {
			continue
		}
		var change ofrepv1.ChangeEvent
		if json.Unmarshal([]byte(ev.Data), &change) != nil || change.Type != ofrepv1.ChangeTypeRefetchEvaluation {
			continue
		}
		events++
		fn(change)
	}
}

func isEventStream(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == mimeEventStream
}

// idleReader reports every read that returned bytes, so a watchdog can tell a live
// stream from a silent one.
type idleReader struct {
	r      io.Reader
	onRead func()
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.onRead()
	}
	return n, err
}

// maxRetryAfterSeconds caps a Retry-After: no server means a client to wait a day.
const maxRetryAfterSeconds = 24 * 60 * 60

// retryAfter reads a Retry-After header: delay seconds or an HTTP date; 0 when absent,
// malformed or in the past.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(min(secs, maxRetryAfterSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
