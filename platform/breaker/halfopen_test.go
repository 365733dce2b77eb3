package breaker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/breaker"
)

func TestHalfOpenProbes(t *testing.T) {
	const cooldown = 10 * time.Millisecond
	tests := []struct {
		name       string
		probes     uint32
		outcomes   []error
		wantStates []breaker.State // after each outcome
		wantHooks  []hookEvent     // after the first trip
	}{
		{name: "one successful probe closes", probes: 1,
			outcomes:   []error{nil},
			wantStates: []breaker.State{breaker.Closed},
			wantHooks:  []hookEvent{{cooldown: cooldown}}},
		{name: "every probe must succeed", probes: 3,
			outcomes:   []error{nil, nil, nil},
			wantStates: []breaker.State{breaker.HalfOpen, breaker.HalfOpen, breaker.Closed},
			wantHooks:  []hookEvent{{cooldown: cooldown}}},
		{name: "a bad request probe changes nothing and frees its slot", probes: 1,
			outcomes:   []error{errBad, errBad, nil},
			wantStates: []breaker.State{breaker.HalfOpen, breaker.HalfOpen, breaker.Closed},
			wantHooks:  []hookEvent{{cooldown: cooldown}}},
		{name: "a failed probe re-opens with twice the cooldown", probes: 2,
			outcomes:   []error{nil, errUpstream},
			wantStates: []breaker.State{breaker.HalfOpen, breaker.Open},
			wantHooks:  []hookEvent{{trip: true, err: errUpstream, failures: 1, cooldown: 2 * cooldown}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hooks{}
			b := newBreaker(t, h, breaker.Settings{TripAfter: 1, Cooldown: cooldown, MaxCooldown: time.Hour, HalfOpenProbes: tt.probes})
			start := time.Now()
			fail(t, b)
			if seen := waitFor(t, b, breaker.HalfOpen); seen.Sub(start) < cooldown {
				t.Fatalf("half-open after %s, before the %s cooldown", seen.Sub(start), cooldown)
			}
			for i, outcome := range tt.outcomes {
				if called, err := call(b, outcome); !called || err != outcome {
					t.Fatalf("probe %d: Do = called %v, %v; want fn called and %v back", i+1, called, err, outcome)
				}
				if got := b.State(); got != tt.wantStates[i] {
					t.Fatalf("after probe %d state = %s, want %s", i+1, got, tt.wantStates[i])
				}
			}
			got := h.all()[1:]
			if len(got) != len(tt.wantHooks) {
				t.Fatalf("hooks after the trip = %+v, want %+v", got, tt.wantHooks)
			}
			for i := range got {
				if got[i] != tt.wantHooks[i] {
					t.Fatalf("hooks after the trip = %+v, want %+v", got, tt.wantHooks)
				}
			}
		})
	}
}

func TestHalfOpenLetsOnlyHalfOpenProbesThrough(t *testing.T) {
	h := &hooks{}
	b := newBreaker(t, h, breaker.Settings{TripAfter: 1, Cooldown: time.Millisecond, HalfOpenProbes: 2})
	fail(t, b)
	waitFor(t, b, breaker.HalfOpen)

	release := make(chan struct{})
	entered := make(chan struct{})
	results := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := b.Do(context.Background(), func(context.Context) (int, error) {
				entered <- struct{}{}
				<-release
				return 1, nil
			})
			results <- err
		}()
		<-entered
	}
	called, err := call(b, nil)
	if called || !errors.Is(err, breaker.ErrOpen) || !strings.Contains(err.Error(), "in flight") {
		t.Fatalf("third call while two probes are in flight: called %v, %v; want ErrOpen without calling fn", called, err)
	}
	close(release)
	for range 2 {
		if err := <-results; err != nil {
			t.Fatalf("probe: %v", err)
		}
	}
	if got := b.State(); got != breaker.Closed {
		t.Fatalf("state = %s, want closed", got)
	}
}

func TestCooldownGrowsUntilMaxAndResetsOnClose(t *testing.T) {
	const base, maxCooldown = 10 * time.Millisecond, 25 * time.Millisecond
	// probeWhenHalfOpen runs probe as soon as the breaker lets it through, watching for
	// the end of the cooldown either through State or through Do itself. It returns a
	// time after the breaker let calls through again and a time before the probe ran.
	tests := []struct {
		name              string
		probeWhenHalfOpen func(t *testing.T, b *breaker.Breaker[int], probe error) (halfOpen, probing time.Time)
	}{
		{"watching State", func(t *testing.T, b *breaker.Breaker[int], probe error) (time.Time, time.Time) {
			halfOpen := waitFor(t, b, breaker.HalfOpen)
			probing := time.Now()
			if called, err := call(b, probe); !called || err != probe {
				t.Fatalf("Do = called %v, %v; want fn called and %v back", called, err, probe)
			}
			return halfOpen, probing
		}},
		{"calling Do", func(t *testing.T, b *breaker.Breaker[int], probe error) (time.Time, time.Time) {
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				probing := time.Now()
				called, err := call(b, probe)
				if called {
					if err != probe {
						t.Fatalf("Do = %v, want %v back", err, probe)
					}
					return time.Now(), probing
				}
				if !errors.Is(err, breaker.ErrOpen) {
					t.Fatalf("Do = %v, want ErrOpen while open", err)
				}
				time.Sleep(time.Millisecond)
			}
			t.Fatal("Do rejected every call for 5s")
			return time.Time{}, time.Time{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hooks{}
			b := newBreaker(t, h, breaker.Settings{TripAfter: 2, Cooldown: base, MaxCooldown: maxCooldown})
			fail(t, b)
			tripping := time.Now()
			fail(t, b)
			stages := []struct {
				probe error
				want  hookEvent
			}{
				{errUpstream, hookEvent{trip: true, err: errUpstream, failures: 3, cooldown: 2 * base}},
				{errUpstream, hookEvent{trip: true, err: errUpstream, failures: 4, cooldown: maxCooldown}},
				{errUpstream, hookEvent{trip: true, err: errUpstream, failures: 5, cooldown: maxCooldown}},
				{nil, hookEvent{cooldown: maxCooldown}},
			}
			inForce := base
			for i, stage := range stages {
				halfOpen, probing := tt.probeWhenHalfOpen(t, b, stage.probe)
				if open := halfOpen.Sub(tripping); open < inForce {
					t.Fatalf("stage %d: calls let through %s after the trip, before the %s cooldown ended", i+1, open, inForce)
				}
				if got := h.all(); got[len(got)-1] != stage.want {
					t.Fatalf("stage %d: last hook %+v, want %+v", i+1, got[len(got)-1], stage.want)
				}
				tripping, inForce = probing, stage.want.cooldown
			}
			if got := b.State(); got != breaker.Closed {
				t.Fatalf("state = %s, want closed", got)
			}

			fail(t, b)
			fail(t, b)
			want := hookEvent{trip: true, err: errUpstream, failures: 2, cooldown: base}
			if got := h.all(); got[len(got)-1] != want {
				t.Fatalf("trip after close: %+v, want %+v", got[len(got)-1], want)
			}
		})
	}
}
