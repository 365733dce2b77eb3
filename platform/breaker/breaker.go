package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// State is where a breaker stands.
type State int

// The states of a breaker.
const (
	Closed State = iota
	HalfOpen
	Open
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	default:
		return fmt.Sprintf("state(%d)", int(s))
	}
}

// ErrOpen is wrapped by the error Do returns, without calling fn, when the breaker is
// open or its half-open probes are all in flight. That error is an *OpenError.
var ErrOpen = errors.New("circuit breaker open")

// OpenError is the error of a call the breaker rejected without calling fn.
type OpenError struct {
	// Breaker is the name of the breaker that rejected the call.
	Breaker string
	// Wait is how long until the breaker lets a probe through; zero when it is
	// half-open with every probe in flight (the next result decides).
	Wait   time.Duration
	detail string
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker %q: %v%s", e.Breaker, ErrOpen, e.detail)
}

// Unwrap makes errors.Is(err, ErrOpen) true.
func (e *OpenError) Unwrap() error { return ErrOpen }

// RetryAfter is Wait: a scheduler that retries the call later need not come back sooner.
func (e *OpenError) RetryAfter() time.Duration { return e.Wait }

// Breaker guards calls to one remote dependency. It is safe for concurrent use.
type Breaker[T any] struct {
	settings Settings
	inner    *gobreaker.CircuitBreaker[T]

	// mu guards the fields below. gobreaker calls record and transition while holding
	// its own lock, so mu is always taken after it and never held while calling inner.
	mu        sync.Mutex
	openUntil time.Time     // end of the current open period; zero unless open
	cooldown  time.Duration // cooldown of the current or last open period; zero once closed
	streak    uint32        // consecutive counted failures since the last success
	lastErr   error         // the latest counted failure, for OnTrip
	pending   []event       // transitions whose hooks have not run yet

	// notifyMu runs hooks one at a time, in the order the transitions happened.
	notifyMu sync.Mutex
}

type event struct {
	trip     bool
	err      error
	failures uint32
	cooldown time.Duration
}

// countedError marks an fn error as a failure on its way through gobreaker; Do strips it.
type countedError struct{ err error }

func (e countedError) Error() string { return e.err.Error() }

// New returns a closed Breaker, or an error wrapping ErrInvalidSettings.
func New[T any](s Settings) (*Breaker[T], error) {
	s, err := resolve(s)
	if err != nil {
		return nil, err
	}
	b := &Breaker[T]{settings: s}
	tripAfter := s.TripAfter
	b.inner = gobreaker.NewCircuitBreaker[T](gobreaker.Settings{
		Name:        s.Name,
		MaxRequests: s.HalfOpenProbes,
		Timeout:     s.Cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= tripAfter },
		IsExcluded: func(err error) bool {
			_, counted := err.(countedError)
			return err != nil && !counted
		},
		IsSuccessful:  b.record,
		OnStateChange: b.transition,
	})
	return b, nil
}

// Settings returns the settings in force, defaults filled in.
func (b *Breaker[T]) Settings() Settings { return b.settings }

// Do calls fn with ctx bounded by CallTimeout, unless the breaker is open. Errors from
// fn come back unchanged; a rejected call returns an error wrapping ErrOpen.
func (b *Breaker[T]) Do(ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("breaker %q: %w", b.settings.Name, err)
	}
	if remaining := b.remaining(time.Now()); remaining > 0 {
		return zero, b.openError(remaining)
	}
	defer b.notify()
	called := false
	v, err := b.inner.Execute(func() (T, error) {
		called = true
		callCtx, cancel := context.WithTimeout(ctx, b.settings.CallTimeout)
		defer cancel()
		v, err := fn(callCtx)
		if err != nil && b.counts(ctx, err) {
			return v, countedError{err}
		}
		return v, err
	})
	if !called {
		return zero, b.rejected(err)
	}
	if c, ok := err.(countedError); ok {
		err = c.err
	}
	return v, err
}

// State reports the breaker's state now.
func (b *Breaker[T]) State() State {
	if b.remaining(time.Now()) > 0 {
		return Open
	}
	switch b.inner.State() {
	case gobreaker.StateOpen:
		return Open
	case gobreaker.StateHalfOpen:
		return HalfOpen
	default:
		return Closed
	}
}

func (b *Breaker[T]) counts(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	return b.settings.Counts(err)
}

func (b *Breaker[T]) remaining(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil.Sub(now)
}

func (b *Breaker[T]) openError(remaining time.Duration) error {
	remaining = max(remaining, 0)
	return &OpenError{Breaker: b.settings.Name, Wait: remaining, detail: fmt.Sprintf(", retry in %s", remaining.Round(time.Millisecond))}
}

func (b *Breaker[T]) rejected(err error) error {
	switch {
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return &OpenError{Breaker: b.settings.Name, detail: fmt.Sprintf(": half-open, %d probe(s) in flight", b.settings.HalfOpenProbes)}
	case errors.Is(err, gobreaker.ErrOpenState):
		return b.openError(b.remaining(time.Now()))
	default:
		return fmt.Errorf("breaker %q: %w", b.settings.Name, err)
	}
}

// record is gobreaker's IsSuccessful: it sees every result gobreaker counts.
func (b *Breaker[T]) record(err error) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		b.streak = 0
		return true
	}
	b.streak++
	b.lastErr = err
	if c, ok := err.(countedError); ok {
		b.lastErr = c.err
	}
	return false
}

// transition is gobreaker's OnStateChange. gobreaker opens for Cooldown only; the grown
// cooldown is enforced by openUntil, which Do and State check before asking gobreaker.
func (b *Breaker[T]) transition(_ string, from, to gobreaker.State) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case to == gobreaker.StateOpen:
		b.cooldown = b.nextCooldown()
		b.openUntil = time.Now().Add(b.cooldown)
		b.pending = append(b.pending, event{trip: true, err: b.lastErr, failures: b.streak, cooldown: b.cooldown})
		b.lastErr = nil
	case from == gobreaker.StateHalfOpen && to == gobreaker.StateClosed:
		b.pending = append(b.pending, event{cooldown: b.cooldown})
		b.cooldown = 0
		b.openUntil = time.Time{}
	}
}

func (b *Breaker[T]) nextCooldown() time.Duration {
	switch {
	case b.cooldown == 0:
		return b.settings.Cooldown
	case b.cooldown > b.settings.MaxCooldown/2:
		return b.settings.MaxCooldown
	default:
		return b.cooldown * 2
	}
}

// notify runs the hooks of pending transitions outside gobreaker's lock, so a hook may
// take its time or call State without stalling the breaker for callers with no news.
func (b *Breaker[T]) notify() {
	b.mu.Lock()
	n := len(b.pending)
	b.mu.Unlock()
	if n == 0 {
		return
	}
	b.notifyMu.Lock()
	defer b.notifyMu.Unlock()
	b.mu.Lock()
	events := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, e := range events {
		switch {
		case e.trip && b.settings.OnTrip != nil:
			b.settings.OnTrip(e.err, e.failures, e.cooldown)
		case !e.trip && b.settings.OnClose != nil:
			b.settings.OnClose(e.cooldown)
		}
	}
}
