package breaker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/breaker"
)

// TestConcurrentUse drives one breaker from many goroutines through alternating phases of
// failures and successes, then checks the hooks told a consistent story.
func TestConcurrentUse(t *testing.T) {
	const (
		base        = 500 * time.Microsecond
		maxCooldown = 2 * time.Millisecond
		tripAfter   = 3
		wantCalls   = 1200
	)
	h := &hooks{}
	var b *breaker.Breaker[int]
	var inHook atomic.Int32
	s := h.settings(breaker.Settings{Name: "test", TripAfter: tripAfter, Cooldown: base, MaxCooldown: maxCooldown, HalfOpenProbes: 2})
	record := s.OnTrip
	s.OnTrip = func(err error, failures uint32, cooldown time.Duration) {
		if inHook.Add(1) > 1 {
			t.Error("hooks ran concurrently")
		}
		if got := b.State(); got == breaker.Closed {
			t.Errorf("OnTrip saw state %s", got)
		}
		record(err, failures, cooldown)
		inHook.Add(-1)
	}
	b, err := breaker.New[int](s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	var calls, rejected atomic.Int64
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for calls.Load() < wantCalls && time.Now().Before(deadline) {
				_, err := b.Do(context.Background(), func(context.Context) (int, error) {
					n := calls.Add(1)
					switch {
					case n%7 == 0:
						return 0, errBad
					case n%60 < 15:
						return 0, errUpstream
					default:
						return int(n), nil
					}
				})
				switch {
				case err == nil || err == errBad || err == errUpstream:
				case errors.Is(err, breaker.ErrOpen):
					rejected.Add(1)
					time.Sleep(50 * time.Microsecond) // back off; not a synchronisation
				default:
					t.Errorf("Do = %v, want fn's error or ErrOpen", err)
				}
			}
		})
	}
	wg.Wait()
	if got := calls.Load(); got < wantCalls {
		t.Fatalf("fn ran %d times in 10s, want %d", got, wantCalls)
	}

	var trips, closes int
	var last hookEvent
	open := false
	for i, e := range h.all() {
		switch {
		case e.trip && !open && (e.cooldown != base || e.failures != tripAfter):
			t.Errorf("hook %d: trip from closed %+v, want cooldown %s after %d failures", i, e, base, tripAfter)
		case e.trip && open && e.cooldown != min(2*last.cooldown, maxCooldown):
			t.Errorf("hook %d: re-trip %+v after %+v, want the cooldown doubled up to %s", i, e, last, maxCooldown)
		case e.trip && !errors.Is(e.err, errUpstream):
			t.Errorf("hook %d: trip caused by %v, want %v", i, e.err, errUpstream)
		case !e.trip && !open:
			t.Errorf("hook %d: close while not open", i)
		case !e.trip && e.cooldown != last.cooldown:
			t.Errorf("hook %d: close with cooldown %s, want the %s in force", i, e.cooldown, last.cooldown)
		}
		if e.trip {
			trips++
		} else {
			closes++
		}
		open = e.trip
		last = e
	}
	if closes < 3 || trips <= closes {
		t.Fatalf("%d trips and %d closes, want several of each and some re-trips", trips, closes)
	}
	t.Logf("%d calls, %d rejected, %d trips, %d closes", calls.Load(), rejected.Load(), trips, closes)
}
