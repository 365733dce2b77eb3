package evaluation_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// wait is how long a test waits for something that should happen at once.
const wait = 5 * time.Second

// withStreams sets the module's event stream options.
func withStreams(o evaluation.EventStreamOptions) depsOption {
	return func(d *evaluation.Deps) { d.EventStreams = o }
}

// served starts h's echo behind a real HTTP server (streams need one: a recorder cannot
// stream). Cleanup ends the streams first, since the server's Close waits for them.
func served(t *testing.T, h *harness) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h.e)
	t.Cleanup(srv.Close)
	t.Cleanup(h.mod.CloseStreams)
	return srv
}

// wire is an event stream read line by line, exactly as the server wrote it.
type wire struct {
	t     *testing.T
	resp  *http.Response
	lines chan string
}

// openWire GETs the event stream at url with headers (name, value pairs) and checks it
// is one.
func openWire(t *testing.T, url string, headers ...string) *wire {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+ofrepv1.PathEventStream, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("open event stream: %v", err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" ||
		resp.Header.Get("Cache-Control") != "no-cache" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("event stream answered %d %v: %s", resp.StatusCode, resp.Header, body)
	}
	w := &wire{t: t, resp: resp, lines: make(chan string, 1024)}
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
	}()
	return w
}

// line returns the next line, failing the test when none comes within wait or the
// stream ended.
func (w *wire) line() string {
	w.t.Helper()
	select {
	case l, ok := <-w.lines:
		if !ok {
			w.t.Fatal("the event stream ended")
		}
		return l
	case <-time.After(wait):
		w.t.Fatal("no line on the event stream within " + wait.String())
		return ""
	}
}

// expect reads the next lines and checks them.
func (w *wire) expect(lines ...string) {
	w.t.Helper()
	for _, want := range lines {
		if got := w.line(); got != want {
			w.t.Fatalf("stream line %q, want %q", got, want)
		}
	}
}

// sseEvent is one event as the wire carried it.
type sseEvent struct {
	id, event string
	change    ofrepv1.ChangeEvent
}

// nextEvent skips comments and blank lines up to the next event and reads it whole.
func (w *wire) nextEvent() sseEvent {
	w.t.Helper()
	var ev sseEvent
	for {
		l := w.line()
		switch {
		case l == "" && ev.event != "":
			return ev
		case l == "" || strings.HasPrefix(l, ":") || strings.HasPrefix(l, "retry: "):
		case strings.HasPrefix(l, "id: "):
			ev.id = strings.TrimPrefix(l, "id: ")
		case strings.HasPrefix(l, "event: "):
			ev.event = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &ev.change); err != nil {
				w.t.Fatalf("event data %q: %v", l, err)
			}
		default:
			w.t.Fatalf("unexpected line in an event: %q", l)
		}
	}
}

// quietFor checks that for d the stream carries no event (heartbeats are fine).
func (w *wire) quietFor(d time.Duration) {
	w.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-w.lines:
			if !ok {
				w.t.Fatal("the event stream ended")
			}
			if l != "" && !strings.HasPrefix(l, ":") {
				w.t.Fatalf("unexpected event line %q", l)
			}
		case <-deadline:
			return
		}
	}
}

// snapshotETag is the definitions snapshot's ETag as the server answers it now.
func snapshotETag(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/sdk/v1/flags.json")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		t.Fatalf("snapshot answered %d with ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	return resp.Header.Get("ETag")
}

func TestEventStreamWire(t *testing.T) {
	h := started(t)
	srv := served(t, h)
	w := openWire(t, srv.URL)
	w.expect("retry: 2000", ": connected", "")
	initial := snapshotETag(t, srv.URL)
	id := strings.Trim(initial, `"`)
	w.expect("id: "+id, "event: message", `data: {"type":"refetchEvaluation","etag":"\"`+id+`\""}`, "")

	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	ev := w.nextEvent()
	now := snapshotETag(t, srv.URL)
	if now == initial {
		t.Fatalf("the snapshot ETag did not change with the revision: %s", now)
	}
	want := sseEvent{id: strings.Trim(now, `"`), event: "message",
		change: ofrepv1.ChangeEvent{Type: "refetchEvaluation", ETag: now, LastModified: strconv.FormatInt(fixedNow.Unix(), 10)}}
	if ev != want {
		t.Fatalf("event = %+v\nwant    %+v", ev, want)
	}
}

func TestEventStreamLastEventID(t *testing.T) {
	h := started(t)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	srv := served(t, h)
	current := strings.Trim(snapshotETag(t, srv.URL), `"`)

	t.Run("current id: no event on connect", func(t *testing.T) {
		w := openWire(t, srv.URL, "Last-Event-ID", current)
		w.expect("retry: 2000", ": connected", "")
		w.quietFor(300 * time.Millisecond)
	})
	t.Run("older id: the current one at once", func(t *testing.T) {
		w := openWire(t, srv.URL, "Last-Event-ID", "c0-00000000")
		if ev := w.nextEvent(); ev.id != current {
			t.Fatalf("first event id %q, want %q", ev.id, current)
		}
	})
}

func TestEventStreamHeartbeats(t *testing.T) {
	h := startedOn(t, storage.SQLite, withStreams(evaluation.EventStreamOptions{Heartbeat: 50 * time.Millisecond, Retry: 750 * time.Millisecond}))
	srv := served(t, h)
	w := openWire(t, srv.URL)
	w.expect("retry: 750", ": connected", "")
	w.nextEvent()
	for range 3 {
		w.expect(":", "")
	}
}

func TestEventStreamIgnoresOtherEnvironments(t *testing.T) {
	h := startedOn(t, storage.SQLite, withStreams(evaluation.EventStreamOptions{MinInterval: time.Millisecond}))
	srv := served(t, h)
	w := openWire(t, srv.URL)
	w.nextEvent()
	h.mustDeliver(event(t, "s1", flagsv1.TypeFlagCreated, "staging", "f", 1, boolFlag))
	w.quietFor(300 * time.Millisecond)
	h.mustDeliver(created(t, "d1", "f", 1, boolFlag))
	if ev := w.nextEvent(); ev.change.ETag != snapshotETag(t, srv.URL) {
		t.Fatalf("event etag %s, want the current snapshot's", ev.change.ETag)
	}
}

// watchEvents runs ofrephttp's Watch against url until the test ends, passing on every
// event and, at the end, its error.
func watchEvents(t *testing.T, url string) (<-chan ofrepv1.ChangeEvent, <-chan error) {
	t.Helper()
	c, err := ofrephttp.New(url)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan ofrepv1.ChangeEvent, 1024)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		done <- c.Watch(ctx, url+ofrepv1.PathEventStream, func(ev ofrepv1.ChangeEvent) { events <- ev })
	}()
	return events, done
}

func receive(t *testing.T, events <-chan ofrepv1.ChangeEvent) ofrepv1.ChangeEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(wait):
		t.Fatal("no change event within " + wait.String())
		return ofrepv1.ChangeEvent{}
	}
}

// TestEventStreamCoalescesBursts applies a burst of changes and checks that the stream
// sends far fewer events than changes: the first at once, then at most one per
// MinInterval, the last one carrying the latest configuration.
func TestEventStreamCoalescesBursts(t *testing.T) {
	const minInterval = 400 * time.Millisecond
	const burst = 30
	h := startedOn(t, storage.SQLite, withStreams(evaluation.EventStreamOptions{MinInterval: minInterval}))
	srv := served(t, h)
	events, _ := watchEvents(t, srv.URL)
	receive(t, events) // the current configuration, on connect

	start := time.Now()
	for i := range burst {
		h.mustDeliver(created(t, fmt.Sprintf("b%d", i), fmt.Sprintf("f%02d", i), 1, boolFlag))
	}
	elapsed := time.Since(start)
	final := snapshotETag(t, srv.URL)

	var got []ofrepv1.ChangeEvent
	for len(got) == 0 || got[len(got)-1].ETag != final {
		got = append(got, receive(t, events))
	}
	select { // nothing after the latest
	case ev := <-events:
		t.Fatalf("an event after the one announcing the latest configuration: %+v", ev)
	case <-time.After(2 * minInterval):
	}
	// One at once, one per interval the burst lasted, and the trailing one.
	limit := 2 + int(elapsed/minInterval)
	t.Logf("%d changes in %v -> %d events (at most %d allowed)", burst, elapsed.Round(time.Millisecond), len(got), limit)
	if len(got) > limit || len(got) >= burst {
		t.Fatalf("%d changes in %v made %d events, want at most %d", burst, elapsed, len(got), limit)
	}
}

func TestEventStreamLimit(t *testing.T) {
	h := startedOn(t, storage.SQLite, withStreams(evaluation.EventStreamOptions{MaxStreams: 2}))
	srv := served(t, h)
	first := openWire(t, srv.URL)
	first.nextEvent()
	second := openWire(t, srv.URL)
	second.nextEvent()
	if n := h.mod.OpenStreams(); n != 2 {
		t.Fatalf("OpenStreams() = %d, want 2", n)
	}

	// A timeout, so that a stream opened against the limit fails the test, not hangs it.
	client := &http.Client{Timeout: wait}
	resp, err := client.Get(srv.URL + ofrepv1.PathEventStream)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), "too many open event streams") {
		t.Fatalf("third stream: %d %v %s; want a 503 problem with Retry-After", resp.StatusCode, resp.Header, body)
	}

	_ = first.resp.Body.Close() // a client leaves: its slot frees
	deadline := time.Now().Add(wait)
	for h.mod.OpenStreams() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("OpenStreams() = %d after a client left, want 1", h.mod.OpenStreams())
		}
		time.Sleep(5 * time.Millisecond)
	}
	openWire(t, srv.URL).nextEvent()
}

func TestEventStreamBeforeLoad(t *testing.T) {
	h := newHarness(t)
	srv := served(t, h)
	resp, err := (&http.Client{Timeout: wait}).Get(srv.URL + ofrepv1.PathEventStream)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("before Start: %d, Retry-After %q; want 503, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestShutdownEndsStreams shuts a real http.Server down with open streams: with
// CloseStreams registered to run on shutdown (what cmd/switchyard does), Shutdown
// returns at once and every stream ends; without it, Shutdown would wait out its context.
func TestShutdownEndsStreams(t *testing.T) {
	for _, registered := range []bool{true, false} {
		t.Run(fmt.Sprintf("registered=%v", registered), func(t *testing.T) {
			h := started(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: h.e, ReadHeaderTimeout: 10 * time.Second}
			if registered {
				srv.RegisterOnShutdown(h.mod.CloseStreams)
			}
			go func() { _ = srv.Serve(ln) }()
			url := "http://" + ln.Addr().String()

			var dones []<-chan error
			for range 3 {
				events, done := watchEvents(t, url)
				receive(t, events)
				dones = append(dones, done)
			}
			timeout := 2 * time.Second
			if !registered {
				timeout = 300 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			err = srv.Shutdown(ctx)
			if !registered {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Shutdown without CloseStreams = %v, want it to wait out its context", err)
				}
				h.mod.CloseStreams() // let the streams go
				for _, done := range dones {
					select {
					case <-done:
					case <-time.After(wait):
						t.Fatal("CloseStreams did not end a stream")
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Shutdown: %v (after %v)", err, time.Since(start))
			}
			for _, done := range dones {
				select {
				case err := <-done:
					// CloseStreams also cuts a stream stuck writing (a deadline in the
					// past), so the last chunk may or may not make it out: either is an
					// end the client reconnects after.
					var ended *ofrephttp.StreamEndedError
					if !errors.As(err, &ended) || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
						t.Fatalf("stream ended with %v, want the stream's end", err)
					}
				case <-time.After(wait):
					t.Fatal("a stream outlived the server's shutdown")
				}
			}
			t.Logf("Shutdown with 3 open streams took %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

func TestStreamsRefusedAfterClose(t *testing.T) {
	h := started(t)
	srv := served(t, h)
	h.mod.CloseStreams()
	resp, err := (&http.Client{Timeout: wait}).Get(srv.URL + ofrepv1.PathEventStream)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after CloseStreams: %d; want 503 with Retry-After", resp.StatusCode)
	}
}

// TestSlowClientDoesNotHoldUpTheProjection opens streams that never read and checks that
// events are applied as fast as ever: the projection only closes a channel, and a stream
// that cannot write blocks only its own handler.
func TestSlowClientDoesNotHoldUpTheProjection(t *testing.T) {
	h := startedOn(t, storage.SQLite, withStreams(evaluation.EventStreamOptions{MinInterval: time.Millisecond, Heartbeat: time.Millisecond}))
	srv := httptest.NewUnstartedServer(h.e)
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(h.mod.CloseStreams)
	for range 5 {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		// A tiny receive window and no reads: the server's writes back up quickly.
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetReadBuffer(1024)
		}
		if _, err := io.WriteString(conn, "GET "+ofrepv1.PathEventStream+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			h.mustDeliver(created(t, fmt.Sprintf("s%d", i), fmt.Sprintf("f%03d", i), 1, boolFlag))
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("200 events were not applied within a minute with stalled streams open")
	}
	if rec := h.evaluate("f199", ``); rec.Code != http.StatusOK {
		t.Fatalf("the last flag is not served: %d", rec.Code)
	}
}

// TestShutdownWithAStalledClient checks that a stream blocked writing to a client that
// does not read ends at once on shutdown, not when its write deadline passes.
func TestShutdownWithAStalledClient(t *testing.T) {
	h := startedOn(t, storage.SQLite, withStreams(evaluation.EventStreamOptions{Heartbeat: time.Millisecond, MinInterval: time.Millisecond}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h.e, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(h.mod.CloseStreams)
	go func() { _ = srv.Serve(smallSendBuffers{ln}) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(1024)
	}
	if _, err := io.WriteString(conn, "GET "+ofrepv1.PathEventStream+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Events and heartbeats into a client that never reads, through small socket
	// buffers: the stream's writes back up and block.
	for i := range 300 {
		h.mustDeliver(created(t, fmt.Sprintf("x%d", i), fmt.Sprintf("flag-with-a-long-name-to-fill-buffers-%03d", i), 1, boolFlag))
	}
	time.Sleep(200 * time.Millisecond)
	if h.mod.OpenStreams() != 1 {
		t.Fatalf("OpenStreams() = %d, want 1", h.mod.OpenStreams())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a stalled stream: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v with a stalled stream: it waited for the write deadline", d)
	}
}

// smallSendBuffers makes the server's side of every connection buffer little, so that a
// client that does not read blocks the server's writes soon.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(1024)
	}
	return conn, err
}

// TestBulkAdvertisesAWorkingStream follows the eventStreams of a bulk response, as an
// OFREP provider does, and gets a change notification through it.
func TestBulkAdvertisesAWorkingStream(t *testing.T) {
	h := started(t)
	srv := served(t, h)
	c, err := ofrephttp.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.EvaluateFlags(context.Background(), nil, "")
	if err != nil || len(res.EventStreams) != 1 || res.EventStreams[0].Type != ofrepv1.EventStreamTypeSSE {
		t.Fatalf("bulk = %+v, %v; want one SSE event stream", res, err)
	}
	streamURL, err := c.StreamURL(res.EventStreams[0])
	if err != nil || streamURL != srv.URL+ofrepv1.PathEventStream {
		t.Fatalf("StreamURL = %q, %v", streamURL, err)
	}
	events := make(chan ofrepv1.ChangeEvent, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Watch(ctx, streamURL, func(ev ofrepv1.ChangeEvent) { events <- ev }) }()
	receive(t, events)
	h.mustDeliver(created(t, "e1", "f", 1, boolFlag))
	ev := receive(t, events)

	// The refetch the event triggers: a new result, and then a 304 for the same again.
	again, err := c.EvaluateFlagsOnChange(ctx, nil, res.ETag, ev)
	if err != nil || again.NotModified || len(again.Flags) != 1 || again.ETag == res.ETag {
		t.Fatalf("refetch after the change = %+v, %v; want the new flag under a new ETag", again, err)
	}
	same, err := c.EvaluateFlagsOnChange(ctx, nil, again.ETag, ev)
	if err != nil || !same.NotModified {
		t.Fatalf("second refetch = %+v, %v; want 304", same, err)
	}
	// The single evaluation advertises the stream too.
	rec := h.evaluate("f", ``)
	var single ofrepv1.Evaluation
	if err := json.Unmarshal(rec.Body.Bytes(), &single); err != nil || len(single.EventStreams) != 1 {
		t.Fatalf("single evaluation %s: %v; want one event stream", rec.Body, err)
	}
}
