package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/platform/bus/httppush"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

// pushConfig is the split deploy's synchronous bus: a command-only binary pushes each
// event to the read pods over HTTP (URL, Token, the breaker settings), and a read-only
// binary accepts pushes authenticated by one of Tokens.
type pushConfig struct {
	URL         string
	Token       string
	Timeout     time.Duration
	TripAfter   uint32
	Cooldown    time.Duration
	MaxCooldown time.Duration
	Tokens      []httpx.Token
}

// loadPushConfig reads the SWITCHYARD_PUSH_* variables; which ones a binary needs depends
// on the modules it links (checkDelivery).
func loadPushConfig(getenv func(string) string, bus string) (pushConfig, error) {
	var errs []error
	p := pushConfig{URL: strings.TrimSpace(getenv("SWITCHYARD_PUSH_URL")), Token: strings.TrimSpace(getenv("SWITCHYARD_PUSH_TOKEN"))}
	if p.URL != "" {
		u, err := url.Parse(p.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, fmt.Errorf("SWITCHYARD_PUSH_URL %q must be the read service's http(s) base URL, e.g. http://switchyard-read:8080", p.URL))
		case bus != busSync:
			errs = append(errs, errors.New("SWITCHYARD_PUSH_URL needs SWITCHYARD_BUS=sync: the push is how a command pod delivers synchronously to read pods; with async, events travel through NATS (SWITCHYARD_NATS_URL)"))
		}
		if len(p.Token) < MinTokenLength {
			errs = append(errs, fmt.Errorf("SWITCHYARD_PUSH_TOKEN must be set to one of the read pods' SWITCHYARD_PUSH_TOKENS secrets (at least %d characters)", MinTokenLength))
		}
	} else if p.Token != "" {
		errs = append(errs, errors.New("SWITCHYARD_PUSH_TOKEN is set but SWITCHYARD_PUSH_URL is not: set the read service's URL too"))
	}
	durations := []struct {
		env, def string
		dst      *time.Duration
	}{
		{"SWITCHYARD_PUSH_TIMEOUT", httppush.DefaultTimeout.String(), &p.Timeout},
		{"SWITCHYARD_PUSH_COOLDOWN", "15s", &p.Cooldown},
		{"SWITCHYARD_PUSH_MAX_COOLDOWN", "60s", &p.MaxCooldown},
	}
	for _, d := range durations {
		raw := strings.TrimSpace(getenv(d.env))
		if raw == "" {
			raw = d.def
		}
		v, err := time.ParseDuration(raw)
		if err != nil || v <= 0 || v > time.Hour {
			errs = append(errs, fmt.Errorf("%s %q is invalid: use a positive duration up to 1h, like %s", d.env, raw, d.def))
			continue
		}
		*d.dst = v
	}
	if p.Timeout > 30*time.Second {
		errs = append(errs, fmt.Errorf("SWITCHYARD_PUSH_TIMEOUT %s is too long: a write waits that long when a read pod hangs; use at most 30s", p.Timeout))
	}
	if p.Cooldown > 0 && p.MaxCooldown > 0 && p.MaxCooldown < p.Cooldown {
		errs = append(errs, fmt.Errorf("SWITCHYARD_PUSH_MAX_COOLDOWN %s is below SWITCHYARD_PUSH_COOLDOWN %s", p.MaxCooldown, p.Cooldown))
	}
	p.TripAfter = 4
	if raw := strings.TrimSpace(getenv("SWITCHYARD_PUSH_TRIP_AFTER")); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 32)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("SWITCHYARD_PUSH_TRIP_AFTER %q is invalid: use a whole number of consecutive failures from 1 to 1000", raw))
		} else {
			p.TripAfter = uint32(n)
		}
	}
	tokens, err := parseTokens("SWITCHYARD_PUSH_TOKENS", getenv("SWITCHYARD_PUSH_TOKENS"))
	if err != nil {
		errs = append(errs, err)
	}
	p.Tokens = tokens
	if len(tokens) > 0 && bus != busSync {
		errs = append(errs, errors.New("SWITCHYARD_PUSH_TOKENS needs SWITCHYARD_BUS=sync: read pods accept pushes only in the synchronous split; with async, events arrive through NATS"))
	}
	return p, errors.Join(errs...)
}
