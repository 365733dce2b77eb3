package ofrep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/snapshot"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

const (
	mimeEventStream    = "text/event-stream"
	headerLastEventID  = "Last-Event-ID"
	heartbeat          = ":\n\n"
	streamBusyRetry    = "5" // seconds a client refused for the stream limit waits
	streamClosingRetry = "1"
)

// streams is the state the event streams of one API share: how many are open, the
// tuning, and the signal that ends them all.
type streams struct {
	opts  Options
	hello []byte // retry hint and a comment, written first on every stream
	open  atomic.Int64
	// closing ends when CloseStreams is called: every stream returns, and one blocked
	// writing to a client that does not read is unblocked.
	closing context.Context
	close   context.CancelFunc
}

func newStreams(opts Options) *streams {
	hello := "retry: " + strconv.FormatInt(opts.Retry.Milliseconds(), 10) + "\n: connected\n\n"
	closing, closeAll := context.WithCancel(context.Background())
	return &streams{opts: opts, hello: []byte(hello), closing: closing, close: closeAll}
}

// CloseStreams ends every open event stream and refuses new ones (503): call it when the
// server shuts down, since http.Server.Shutdown waits for handlers that a stream never
// ends on its own. Safe to call more than once.
func (a *API) CloseStreams() { a.streams.close() }

// OpenStreams returns how many event streams are open.
func (a *API) OpenStreams() int { return int(a.streams.open.Load()) }

// eventStream serves OFREP change notifications (ADR-0008) for the API's environment as
// Server-Sent Events: a refetchEvaluation event whenever the environment's revision
// changes, throttled to one per MinInterval (later changes in the window coalesce into
// one event with the latest etag), comment heartbeats while idle. On connect the client
// gets the current etag at once, unless its Last-Event-ID names the current revision
// already. Waiting costs no work in the projection: the holder closes one channel per
// publication and each stream reads the snapshot it then holds. A client that stops
// reading is dropped after streamWriteTimeout, never buffered for.
func (a *API) eventStream(c echo.Context) error {
	s := a.streams
	select {
	case <-s.closing.Done():
		c.Response().Header().Set(echo.HeaderRetryAfter, streamClosingRetry)
		return apperr.New(apperr.Unavailable, "the server is shutting down; reconnect to another")
	default:
	}
	if _, loaded := a.holder.Get(a.environment); !loaded {
		return a.unavailable(c)
	}
	if s.open.Add(1) > int64(s.opts.MaxStreams) {
		s.open.Add(-1)
		c.Response().Header().Set(echo.HeaderRetryAfter, streamBusyRetry)
		return apperr.New(apperr.Unavailable, "too many open event streams (at most %d); retry later", s.opts.MaxStreams)
	}
	defer s.open.Add(-1)

	w := c.Response()
	rc := http.NewResponseController(w)
	// A deadline set on the connection outlives the request: clear it, so that the next
	// request on a kept-alive connection does not inherit it.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	// On shutdown, a write blocked on a client that does not read fails at once instead
	// of at its deadline.
	defer context.AfterFunc(s.closing, func() { _ = rc.SetWriteDeadline(time.Now()) })()
	h := w.Header()
	h.Set(echo.HeaderContentType, mimeEventStream)
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx and the like: pass events through unbuffered
	w.WriteHeader(http.StatusOK)

	st := &stream{w: w, rc: rc, closing: s.closing}
	if err := st.write(s.hello); err != nil {
		return nil
	}
	sent := c.Request().Header.Get(headerLastEventID) // the event id the client has seen
	changed := a.holder.Changed()
	snap, _ := a.holder.Get(a.environment)
	if snap.EventID() != sent {
		if err := st.write(changeEvent(snap)); err != nil {
			return nil
		}
		sent = snap.EventID()
	}
	lastSent := time.Now()

	beat := time.NewTicker(s.opts.Heartbeat)
	defer beat.Stop()
	var due <-chan time.Time // fires when a throttled change may be sent
	var dueTimer *time.Timer
	defer func() {
		if dueTimer != nil {
			dueTimer.Stop()
		}
	}()
	ctx := c.Request().Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing.Done():
			return nil
		case <-beat.C:
			if err := st.write([]byte(heartbeat)); err != nil {
				return nil
			}
			continue
		case <-changed:
			changed = a.holder.Changed()
			if due != nil {
				continue // a send is pending: it will carry this change too
			}
			if wait := s.opts.MinInterval - time.Since(lastSent); wait > 0 {
				dueTimer = time.NewTimer(wait)
				due = dueTimer.C
				continue
			}
		case <-due:
			due, dueTimer = nil, nil
		}
		// A change is due: send the configuration as it is now.
		snap, _ := a.holder.Get(a.environment)
		if snap.EventID() == sent {
			continue // another environment changed, or a reload at the same revision
		}
		if err := st.write(changeEvent(snap)); err != nil {
			return nil
		}
		sent, lastSent = snap.EventID(), time.Now()
		beat.Reset(s.opts.Heartbeat)
	}
}

// changeEvent encodes the refetchEvaluation event announcing snap's revision.
func changeEvent(snap *snapshot.Snapshot) []byte {
	ev := ofrepv1.ChangeEvent{Type: ofrepv1.ChangeTypeRefetchEvaluation, ETag: snap.ETag()}
	if !snap.Modified.IsZero() {
		ev.LastModified = strconv.FormatInt(snap.Modified.Unix(), 10)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		panic("ofrep: encode change event: " + err.Error()) // strings only: cannot fail
	}
	var b bytes.Buffer
	b.WriteString("id: ")
	b.WriteString(snap.EventID())
	b.WriteString("\nevent: ")
	b.WriteString(ofrepv1.SSEEventMessage)
	b.WriteString("\ndata: ")
	b.Write(data) // JSON from json.Marshal has no line breaks
	b.WriteString("\n\n")
	return b.Bytes()
}

// stream writes to one client, each write flushed and bounded by streamWriteTimeout.
type stream struct {
	w       *echo.Response
	rc      *http.ResponseController
	closing context.Context
}

func (s *stream) write(b []byte) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if err := s.closing.Err(); err != nil {
		// CloseStreams may have set its deadline just before this one replaced it.
		_ = s.rc.SetWriteDeadline(time.Now())
		return err
	}
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}
