package breaker

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults applied by New to zero-valued Settings fields.
const (
	DefaultCallTimeout    = 5 * time.Second
	DefaultTripAfter      = 4
	DefaultCooldown       = 15 * time.Second
	DefaultMaxCooldown    = 60 * time.Second
	DefaultHalfOpenProbes = 1
)

// ErrInvalidSettings is wrapped by every error New returns for bad Settings.
var ErrInvalidSettings = errors.New("invalid breaker settings")

// Settings configures a Breaker. Zero values take the defaults above; Name is required.
type Settings struct {
	Name string
	// CallTimeout is the deadline put on the ctx each call of fn receives.
	CallTimeout time.Duration
	// TripAfter is the number of consecutive counted failures that opens the breaker.
	TripAfter uint32
	// Cooldown is how long the breaker stays open after tripping from closed.
	Cooldown time.Duration
	// MaxCooldown caps the cooldown, which doubles each time a half-open probe fails
	// and returns to Cooldown once the breaker closes again. Unset, it is
	// DefaultMaxCooldown, or Cooldown when that is longer (no growth).
	MaxCooldown time.Duration
	// HalfOpenProbes is how many calls a half-open breaker lets through; that many
	// must succeed to close it, and any counted failure among them re-opens it.
	HalfOpenProbes uint32
	// Counts reports whether an error from fn counts as a failure. Default: Transient.
	// Whatever it says, an error returned after the caller cancelled ctx never counts.
	Counts func(err error) bool
	// OnTrip is called after the breaker opens, with the counted error that opened it,
	// the consecutive counted failures since the last success and the cooldown now in force.
	OnTrip func(err error, failures uint32, cooldown time.Duration)
	// OnClose is called after a half-open breaker closes, with the cooldown of the
	// open period that just ended.
	OnClose func(cooldown time.Duration)
}

// resolve checks s and fills in its defaults.
func resolve(s Settings) (Settings, error) {
	var problems []string
	negative := false
	if strings.TrimSpace(s.Name) == "" {
		problems = append(problems, "Name is required")
	}
	for _, d := range []struct {
		field string
		value time.Duration
	}{
		{"CallTimeout", s.CallTimeout},
		{"Cooldown", s.Cooldown},
		{"MaxCooldown", s.MaxCooldown},
	} {
		if d.value < 0 {
			negative = true
			problems = append(problems, fmt.Sprintf("%s must not be negative, got %s", d.field, d.value))
		}
	}
	if !negative {
		cooldownName := "Cooldown"
		if s.Cooldown == 0 {
			cooldownName = "default Cooldown"
		}
		s = withDefaults(s)
		if s.MaxCooldown < s.Cooldown {
			problems = append(problems, fmt.Sprintf("MaxCooldown %s is below %s %s", s.MaxCooldown, cooldownName, s.Cooldown))
		}
	}
	if len(problems) > 0 {
		return Settings{}, fmt.Errorf("breaker %q: %w: %s", s.Name, ErrInvalidSettings, strings.Join(problems, "; "))
	}
	return s, nil
}

func withDefaults(s Settings) Settings {
	if s.CallTimeout == 0 {
		s.CallTimeout = DefaultCallTimeout
	}
	if s.TripAfter == 0 {
		s.TripAfter = DefaultTripAfter
	}
	if s.Cooldown == 0 {
		s.Cooldown = DefaultCooldown
	}
	if s.MaxCooldown == 0 {
		s.MaxCooldown = max(DefaultMaxCooldown, s.Cooldown)
	}
	if s.HalfOpenProbes == 0 {
		s.HalfOpenProbes = DefaultHalfOpenProbes
	}
	if s.Counts == nil {
		s.Counts = Transient
	}
	return s
}
