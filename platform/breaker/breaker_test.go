package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/breaker"
)

var (
	errUpstream error = &statusError{503}
	errBad      error = &statusError{400}
)

type hookEvent struct {
	trip     bool
	err      error
	failures uint32
	cooldown time.Duration
}

// hooks records OnTrip and OnClose calls in order.
type hooks struct {
	mu     sync.Mutex
	events []hookEvent
}

func (h *hooks) settings(s breaker.Settings) breaker.Settings {
	s.OnTrip = func(err error, failures uint32, cooldown time.Duration) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.events = append(h.events, hookEvent{trip: true, err: err, failures: failures, cooldown: cooldown})
	}
	s.OnClose = func(cooldown time.Duration) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.events = append(h.events, hookEvent{cooldown: cooldown})
	}
	return s
}

func (h *hooks) all() []hookEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookEvent(nil), h.events...)
}

func (h *hooks) tripEvents() []hookEvent {
	var trips []hookEvent
	for _, e := range h.all() {
		if e.trip {
			trips = append(trips, e)
		}
	}
	return trips
}

func newBreaker(t *testing.T, h *hooks, s breaker.Settings) *breaker.Breaker[int] {
	t.Helper()
	s.Name = "test"
	b, err := breaker.New[int](h.settings(s))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// call runs Do with an fn returning result and reports whether fn ran.
func call(b *breaker.Breaker[int], result error) (called bool, err error) {
	_, err = b.Do(context.Background(), func(context.Context) (int, error) {
		called = true
		return 1, result
	})
	return called, err
}

func fail(t *testing.T, b *breaker.Breaker[int]) {
	t.Helper()
	if called, err := call(b, errUpstream); !called || err != errUpstream {
		t.Fatalf("Do = called %v, %v; want fn called and %v back", called, err, errUpstream)
	}
}

// waitFor polls until b reaches want and returns when it saw it.
func waitFor(t *testing.T, b *breaker.Breaker[int], want breaker.State) time.Time {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b.State() == want {
			return time.Now()
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("breaker still %s after 5s, want %s", b.State(), want)
	return time.Time{}
}

// awaitCancel blocks like a slow upstream until ctx ends, and gives up after 5s.
func awaitCancel(t *testing.T, ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(5 * time.Second):
		t.Error("fn's context was not cancelled within 5s")
		return errors.New("not cancelled")
	}
}

func TestCallTimeout(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name        string
		callTimeout time.Duration
		parent      func() (context.Context, context.CancelFunc)
		fn          func(t *testing.T, ctx context.Context, cancel context.CancelFunc) (int, error)
		wantErr     error
		wantCalled  bool
		wantState   breaker.State
	}{
		{
			name:        "slow fn is cut at CallTimeout and counts",
			callTimeout: 10 * time.Millisecond,
			parent:      func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			fn: func(t *testing.T, ctx context.Context, _ context.CancelFunc) (int, error) {
				if d, ok := ctx.Deadline(); !ok || time.Until(d) > 10*time.Millisecond {
					t.Errorf("fn deadline in %s, want at most 10ms", time.Until(d))
				}
				return 0, awaitCancel(t, ctx)
			},
			wantErr: context.DeadlineExceeded, wantCalled: true, wantState: breaker.Open,
		},
		{
			name:        "a shorter caller deadline is kept and counts",
			callTimeout: time.Hour,
			parent: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 10*time.Millisecond)
			},
			fn: func(t *testing.T, ctx context.Context, _ context.CancelFunc) (int, error) {
				if d, ok := ctx.Deadline(); !ok || time.Until(d) > 10*time.Millisecond {
					t.Errorf("fn deadline in %s, want the caller's 10ms", time.Until(d))
				}
				return 0, awaitCancel(t, ctx)
			},
			wantErr: context.DeadlineExceeded, wantCalled: true, wantState: breaker.Open,
		},
		{
			name:        "an error after the caller cancelled never counts",
			callTimeout: time.Hour,
			parent:      func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			fn: func(_ *testing.T, _ context.Context, cancel context.CancelFunc) (int, error) {
				cancel()
				return 0, refused
			},
			wantErr: refused, wantCalled: true, wantState: breaker.Closed,
		},
		{
			name:        "a caller already gone does not call fn",
			callTimeout: time.Hour,
			parent: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			fn: func(t *testing.T, _ context.Context, _ context.CancelFunc) (int, error) {
				return 0, errUpstream
			},
			wantErr: context.Canceled, wantCalled: false, wantState: breaker.Closed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hooks{}
			b := newBreaker(t, h, breaker.Settings{CallTimeout: tt.callTimeout, TripAfter: 1, Cooldown: time.Hour})
			ctx, cancel := tt.parent()
			defer cancel()
			called := false
			_, err := b.Do(ctx, func(ctx context.Context) (int, error) {
				called = true
				return tt.fn(t, ctx, cancel)
			})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Do = %v, want %v", err, tt.wantErr)
			}
			if called != tt.wantCalled {
				t.Errorf("fn called = %v, want %v", called, tt.wantCalled)
			}
			if got := b.State(); got != tt.wantState {
				t.Errorf("state = %s, want %s", got, tt.wantState)
			}
			if trips := h.tripEvents(); tt.wantState == breaker.Open && (len(trips) != 1 || !errors.Is(trips[0].err, tt.wantErr)) {
				t.Errorf("trips = %+v, want one caused by %v", trips, tt.wantErr)
			}
		})
	}
}

func TestTripsAfterExactlyTripAfterFailures(t *testing.T) {
	for _, n := range []uint32{1, 2, 4, 7} {
		t.Run(fmt.Sprintf("trip after %d", n), func(t *testing.T) {
			h := &hooks{}
			b := newBreaker(t, h, breaker.Settings{TripAfter: n, Cooldown: time.Hour})
			for i := uint32(1); i < n; i++ {
				fail(t, b)
				if got := b.State(); got != breaker.Closed {
					t.Fatalf("after %d of %d failures state = %s, want closed", i, n, got)
				}
			}
			if len(h.all()) != 0 {
				t.Fatalf("hooks called before the trip: %+v", h.all())
			}
			fail(t, b)
			if got := b.State(); got != breaker.Open {
				t.Fatalf("after %d failures state = %s, want open", n, got)
			}
			want := []hookEvent{{trip: true, err: errUpstream, failures: n, cooldown: time.Hour}}
			if got := h.all(); len(got) != 1 || got[0] != want[0] {
				t.Fatalf("hooks = %+v, want %+v", got, want)
			}
		})
	}
}

func TestErrorsThatDoNotCount(t *testing.T) {
	errBoom := errors.New("boom")
	repeat := func(err error, n int) []error {
		steps := make([]error, n)
		for i := range steps {
			steps[i] = err
		}
		return steps
	}
	tests := []struct {
		name   string
		counts func(error) bool
		steps  []error // nil is a success
		tripAt int     // 1-based step that opens the breaker; 0 for none
	}{
		{name: "bad requests between failures neither reset nor advance the count",
			steps: []error{errUpstream, errBad, errUpstream, errBad, errBad, errUpstream}, tripAt: 6},
		{name: "bad requests alone never trip", steps: repeat(errBad, 40)},
		{name: "cancellation reported by fn never trips", steps: repeat(context.Canceled, 40)},
		{name: "a success resets the count",
			steps: []error{errUpstream, errUpstream, nil, errUpstream, errUpstream, errUpstream}, tripAt: 6},
		{name: "a custom Counts decides",
			counts: func(err error) bool { return errors.Is(err, errBoom) },
			steps:  []error{errUpstream, errUpstream, errUpstream, errBoom, errBad, errBoom, errBoom}, tripAt: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hooks{}
			b := newBreaker(t, h, breaker.Settings{TripAfter: 3, Cooldown: time.Hour, Counts: tt.counts})
			for i, step := range tt.steps {
				called, err := call(b, step)
				if !called || err != step {
					t.Fatalf("step %d: Do = called %v, %v; want fn called and %v back unchanged", i+1, called, err, step)
				}
				want := breaker.Closed
				if tt.tripAt != 0 && i+1 >= tt.tripAt {
					want = breaker.Open
				}
				if got := b.State(); got != want {
					t.Fatalf("after step %d state = %s, want %s", i+1, got, want)
				}
			}
			trips := h.tripEvents()
			switch {
			case tt.tripAt == 0 && len(trips) != 0:
				t.Fatalf("trips = %+v, want none", trips)
			case tt.tripAt != 0 && (len(trips) != 1 || trips[0].err != tt.steps[tt.tripAt-1] || trips[0].failures != 3):
				t.Fatalf("trips = %+v, want one with 3 failures caused by %v", trips, tt.steps[tt.tripAt-1])
			}
		})
	}
}

func TestOpenRejectsWithoutCallingFn(t *testing.T) {
	h := &hooks{}
	b := newBreaker(t, h, breaker.Settings{TripAfter: 1, Cooldown: time.Minute, MaxCooldown: time.Hour})
	fail(t, b)
	for range 5 {
		called, err := call(b, nil)
		if called {
			t.Fatal("fn called while open")
		}
		if !errors.Is(err, breaker.ErrOpen) || errors.Is(err, errUpstream) {
			t.Fatalf("Do = %v, want an error wrapping ErrOpen only", err)
		}
		if msg := err.Error(); !strings.Contains(msg, `breaker "test"`) || !strings.Contains(msg, "retry in ") {
			t.Fatalf("error %q does not name the breaker and the remaining cooldown", msg)
		}
		var open *breaker.OpenError
		if !errors.As(err, &open) || open.Breaker != "test" || open.RetryAfter() <= 50*time.Second || open.RetryAfter() > time.Minute {
			t.Fatalf("error %#v: want an *OpenError of breaker test whose RetryAfter is the rest of the 1m cooldown", err)
		}
	}
	if got := b.State(); got != breaker.Open {
		t.Fatalf("state = %s, want open", got)
	}
	if got := len(h.all()); got != 1 {
		t.Fatalf("%d hook calls, want the single trip", got)
	}
}

func TestPanicInFnIsNotCounted(t *testing.T) {
	h := &hooks{}
	b := newBreaker(t, h, breaker.Settings{TripAfter: 1, Cooldown: time.Millisecond})
	doPanic := func() (recovered any) {
		defer func() { recovered = recover() }()
		_, _ = b.Do(context.Background(), func(context.Context) (int, error) { panic("boom") })
		return nil
	}
	if got := doPanic(); got != "boom" {
		t.Fatalf("recovered %v, want the panic re-raised", got)
	}
	if got := b.State(); got != breaker.Closed {
		t.Fatalf("state after panic = %s, want closed", got)
	}
	fail(t, b)
	waitFor(t, b, breaker.HalfOpen)
	if got := doPanic(); got != "boom" {
		t.Fatalf("recovered %v, want the panic re-raised", got)
	}
	if called, err := call(b, nil); !called || err != nil {
		t.Fatalf("probe after a panicking probe: called %v, %v; want its slot freed", called, err)
	}
	if got := b.State(); got != breaker.Closed {
		t.Fatalf("state = %s, want closed", got)
	}
}

func TestHooksMayCallState(t *testing.T) {
	var b *breaker.Breaker[int]
	var seen []breaker.State
	b, err := breaker.New[int](breaker.Settings{
		Name: "test", TripAfter: 1, Cooldown: time.Millisecond,
		OnTrip:  func(error, uint32, time.Duration) { seen = append(seen, b.State()) },
		OnClose: func(time.Duration) { seen = append(seen, b.State()) },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	fail(t, b)
	waitFor(t, b, breaker.HalfOpen)
	if called, err := call(b, nil); !called || err != nil {
		t.Fatalf("probe: called %v, %v", called, err)
	}
	if len(seen) != 2 || seen[0] == breaker.Closed || seen[1] != breaker.Closed {
		t.Fatalf("states seen by hooks = %v, want [open-or-half-open closed]", seen)
	}
}
