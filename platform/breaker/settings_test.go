package breaker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/platform/breaker"
)

func TestNewAppliesDefaults(t *testing.T) {
	h := &hooks{}
	b, err := breaker.New[int](h.settings(breaker.Settings{Name: "read-pod"}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s := b.Settings()
	if s.CallTimeout != 5*time.Second || s.TripAfter != 4 || s.Cooldown != 15*time.Second ||
		s.MaxCooldown != 60*time.Second || s.HalfOpenProbes != 1 {
		t.Fatalf("defaults = timeout %s, trip after %d, cooldown %s, max %s, probes %d; want 5s, 4, 15s, 1m0s, 1",
			s.CallTimeout, s.TripAfter, s.Cooldown, s.MaxCooldown, s.HalfOpenProbes)
	}
	if s.Counts == nil || !s.Counts(statusError{503}) || s.Counts(statusError{400}) {
		t.Fatal("default Counts does not behave like Transient")
	}

	before := time.Now()
	var deadline time.Time
	_, err = b.Do(context.Background(), func(ctx context.Context) (int, error) {
		var ok bool
		deadline, ok = ctx.Deadline()
		if !ok {
			t.Error("fn got a context without deadline")
		}
		return 0, errUpstream
	})
	if err != errUpstream {
		t.Fatalf("Do = %v, want %v", err, errUpstream)
	}
	if d := deadline.Sub(before); d < 5*time.Second || d > 5*time.Second+time.Minute {
		t.Fatalf("call deadline %s after the call started, want about 5s", d)
	}
	for range 2 {
		fail(t, b)
	}
	if got := b.State(); got != breaker.Closed {
		t.Fatalf("after 3 failures state = %s, want closed", got)
	}
	fail(t, b)
	if got := b.State(); got != breaker.Open {
		t.Fatalf("after 4 failures state = %s, want open", got)
	}
	if trips := h.tripEvents(); len(trips) != 1 || trips[0].cooldown != 15*time.Second {
		t.Fatalf("trips = %+v, want one with cooldown 15s", trips)
	}
}

func TestNewRejectsInvalidSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings breaker.Settings
		want     []string
	}{
		{"no name", breaker.Settings{}, []string{"Name is required"}},
		{"blank name", breaker.Settings{Name: "  "}, []string{"Name is required"}},
		{"negative call timeout", breaker.Settings{Name: "x", CallTimeout: -time.Second}, []string{"CallTimeout must not be negative, got -1s"}},
		{"negative cooldown", breaker.Settings{Name: "x", Cooldown: -time.Millisecond}, []string{"Cooldown must not be negative, got -1ms"}},
		{"negative max cooldown", breaker.Settings{Name: "x", MaxCooldown: -time.Minute}, []string{"MaxCooldown must not be negative, got -1m0s"}},
		{"max below cooldown", breaker.Settings{Name: "x", Cooldown: 2 * time.Second, MaxCooldown: time.Second},
			[]string{"MaxCooldown 1s is below Cooldown 2s"}},
		{"max below default cooldown", breaker.Settings{Name: "x", MaxCooldown: 10 * time.Second},
			[]string{"MaxCooldown 10s is below default Cooldown 15s"}},
		{"every problem reported", breaker.Settings{CallTimeout: -1, Cooldown: -1},
			[]string{"Name is required", "CallTimeout must not be negative", "Cooldown must not be negative"}},
		{"nameless and max below cooldown", breaker.Settings{Cooldown: time.Minute, MaxCooldown: time.Second},
			[]string{"Name is required", "MaxCooldown 1s is below Cooldown 1m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := breaker.New[int](tt.settings)
			if !errors.Is(err, breaker.ErrInvalidSettings) {
				t.Fatalf("New = %v, %v; want an error wrapping ErrInvalidSettings", b, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestNewAcceptsEdgeSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings breaker.Settings
		wantMax  time.Duration
	}{
		{"max equals cooldown", breaker.Settings{Name: "x", Cooldown: time.Second, MaxCooldown: time.Second}, time.Second},
		{"short cooldown under default max", breaker.Settings{Name: "x", Cooldown: time.Millisecond}, time.Minute},
		{"long max over default cooldown", breaker.Settings{Name: "x", MaxCooldown: time.Hour}, time.Hour},
		{"cooldown above default max does not grow", breaker.Settings{Name: "x", Cooldown: 90 * time.Second}, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := breaker.New[int](tt.settings)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := b.Settings().MaxCooldown; got != tt.wantMax {
				t.Fatalf("MaxCooldown = %s, want %s", got, tt.wantMax)
			}
		})
	}
}
