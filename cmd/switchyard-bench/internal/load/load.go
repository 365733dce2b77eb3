// Package load drives one HTTP target with a fixed number of keep-alive connections for
// a fixed time and measures every request: a closed loop (each connection sends its
// next request when the previous response has been read), so the request rate is what
// the target and the generator can sustain together.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyardhq/switchyard/cmd/switchyard-bench/internal/latency"
)

// Target is the one request a run repeats.
type Target struct {
	Method string
	URL    string
	Body   []byte
	Header http.Header
	// Expect is the status every response must have; any other status, and any
	// transport error, is an error.
	Expect int
}

// Options shape a run.
type Options struct {
	Conns    int           // concurrent connections, each with one request in flight
	Warmup   time.Duration // requests sent but not measured (connections open, caches warm)
	Duration time.Duration // the measured window
	Timeout  time.Duration // per request

	// OnWindow, when set, is called as the measured window opens (start true) and
	// closes (start false), so that callers can sample CPU counters at the same instants.
	OnWindow func(start bool)
}

// Validate reports what is wrong with o.
func (o Options) Validate() error {
	var errs []error
	if o.Conns < 1 {
		errs = append(errs, fmt.Errorf("connections must be at least 1, got %d", o.Conns))
	}
	if o.Warmup < 0 {
		errs = append(errs, fmt.Errorf("warm-up must not be negative, got %v", o.Warmup))
	}
	if o.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration must be positive, got %v", o.Duration))
	}
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("request timeout must be positive, got %v", o.Timeout))
	}
	return errors.Join(errs...)
}

// Result is what the measured window saw. Requests that completed during warm-up, or
// after the window closed, are not in it.
type Result struct {
	OK      uint64             // responses with the expected status
	Errors  uint64             // other statuses and transport errors
	Samples []string           // a few distinct error descriptions, sorted
	Window  time.Duration      // the measured window's length
	Latency *latency.Histogram // of the OK responses: request sent to body fully read
	Closed  uint64             // connections closed during the window: keep-alive broke if > 0
}

// Rate is OK responses per second of the window.
func (r Result) Rate() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.OK) / r.Window.Seconds()
}

const maxSamples = 5

// Run drives t until the warm-up and the window have passed or ctx ends (then it
// returns ctx's error).
func Run(ctx context.Context, t Target, o Options) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	var closed atomic.Uint64
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countedConn{Conn: c, closed: &closed}, nil
		},
		MaxIdleConns:          o.Conns,
		MaxIdleConnsPerHost:   o.Conns,
		MaxConnsPerHost:       o.Conns,
		IdleConnTimeout:       time.Minute,
		ResponseHeaderTimeout: o.Timeout,
		DisableCompression:    true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	begin := time.Now()
	w := window{start: begin.Add(o.Warmup), end: begin.Add(o.Warmup + o.Duration)}
	workers := make([]*worker, o.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &worker{hist: latency.New(), samples: map[string]bool{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			workers[i].loop(ctx, client, t, w)
		}()
	}
	closedInWindow := sampleWindow(ctx, w, o.OnWindow, &closed)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}

	res := Result{Latency: latency.New(), Window: o.Duration, Closed: closedInWindow}
	samples := map[string]bool{}
	for _, wk := range workers {
		res.OK += wk.ok
		res.Errors += wk.errors
		res.Latency.Merge(wk.hist)
		for s := range wk.samples {
			samples[s] = true
		}
	}
	for s := range samples {
		res.Samples = append(res.Samples, s)
	}
	sort.Strings(res.Samples)
	if len(res.Samples) > maxSamples {
		res.Samples = res.Samples[:maxSamples]
	}
	return res, nil
}

// sampleWindow waits for the window to open and close, calling onWindow at each edge,
// and returns how many connections were closed in between.
func sampleWindow(ctx context.Context, w window, onWindow func(bool), closed *atomic.Uint64) uint64 {
	if !sleepUntil(ctx, w.start) {
		return 0
	}
	if onWindow != nil {
		onWindow(true)
	}
	atStart := closed.Load()
	if !sleepUntil(ctx, w.end) {
		return 0
	}
	if onWindow != nil {
		onWindow(false)
	}
	return closed.Load() - atStart
}

// countedConn counts its first Close: the transport closes a connection when the server
// closed it or a request on it failed, never while keep-alive holds.
type countedConn struct {
	net.Conn
	closed *atomic.Uint64
	once   sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.closed.Add(1) })
	return c.Conn.Close()
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type window struct{ start, end time.Time }

// worker is one connection's loop; it owns its counters, so nothing is shared.
type worker struct {
	ok, errors uint64
	hist       *latency.Histogram
	samples    map[string]bool
}

func (wk *worker) loop(ctx context.Context, client *http.Client, t Target, w window) {
	for ctx.Err() == nil {
		sent := time.Now()
		if !sent.Before(w.end) {
			return
		}
		status, err := do(ctx, client, t)
		done := time.Now()
		if done.Before(w.start) || !done.Before(w.end) || ctx.Err() != nil {
			continue // warm-up, or completed after the window: not measured
		}
		switch {
		case err != nil:
			wk.fail(err.Error())
		case status != t.Expect:
			wk.fail(fmt.Sprintf("status %d, want %d", status, t.Expect))
		default:
			wk.ok++
			wk.hist.Record(done.Sub(sent))
		}
	}
}

func (wk *worker) fail(sample string) {
	wk.errors++
	if len(wk.samples) < maxSamples {
		wk.samples[sample] = true
	}
}

// do sends one request and reads the whole response, so the connection is reused.
func do(ctx context.Context, client *http.Client, t Target) (int, error) {
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, bytes.NewReader(t.Body))
	if err != nil {
		return 0, err
	}
	for k, v := range t.Header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, nil
}
