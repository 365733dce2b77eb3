package httpapi

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/modules/audit/internal/timeline"
	"github.com/switchyardhq/switchyard/platform/apperr"
)

// Page sizes of GET /api/v1/audit and GET /api/v1/audit/changes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func knownParams() []string {
	return []string{"environment", "flag", "actor", "since", "until", "limit", "cursor"}
}

// parseQuery turns the raw query string of GET /api/v1/audit into a filter. Every
// parameter may appear once; an unknown one is refused, so that a misspelt filter never
// widens the result silently.
func parseQuery(rawQuery string) (timeline.Filter, error) {
	values, err := parseValues(rawQuery, knownParams())
	if err != nil {
		return timeline.Filter{}, err
	}
	f := timeline.Filter{}
	if err := parseSelectors(values, &f.Environment, &f.FlagKey, &f.Actor); err != nil {
		return timeline.Filter{}, err
	}
	if f.Since, err = parseTime(values, "since"); err != nil {
		return timeline.Filter{}, err
	}
	if f.Until, err = parseTime(values, "until"); err != nil {
		return timeline.Filter{}, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return timeline.Filter{}, apperr.InvalidField("until", "until (%s) must be after since (%s)",
			values.Get("until"), values.Get("since"))
	}
	if f.Limit, err = parseLimit(values); err != nil {
		return timeline.Filter{}, err
	}
	// An empty cursor is the first page: nextCursor is absent on the last page, and a
	// client that sends back what it got must not be refused.
	if c := values.Get("cursor"); c != "" {
		p, err := decodeCursor(c)
		if err != nil {
			return timeline.Filter{}, err
		}
		f.After = &p
	}
	return f, nil
}

// parseValues parses rawQuery and refuses a parameter not in known, or given twice.
func parseValues(rawQuery string, known []string) (url.Values, error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "malformed query string: %v", err)
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(known, name) {
			return nil, apperr.InvalidField(name, "unknown query parameter %q; known parameters: %s",
				name, strings.Join(known, ", "))
		}
		if n := len(values[name]); n > 1 {
			return nil, apperr.InvalidField(name, "query parameter %q is given %d times; give it at most once", name, n)
		}
	}
	return values, nil
}

// parseSelectors reads the exact-match filters environment, flag and actor; each, when
// given, must not be empty.
func parseSelectors(values url.Values, environment, flag, actor *string) error {
	for _, p := range []struct {
		name string
		dst  *string
	}{{"environment", environment}, {"flag", flag}, {"actor", actor}} {
		if v, ok := values[p.name]; ok {
			if v[0] == "" {
				return apperr.InvalidField(p.name, "%s must not be empty; omit it to not filter on it", p.name)
			}
			*p.dst = v[0]
		}
	}
	return nil
}

// parseLimit reads the page size, DefaultLimit when absent.
func parseLimit(values url.Values) (int, error) {
	v, ok := values["limit"]
	if !ok {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > MaxLimit {
		return 0, apperr.InvalidField("limit", "limit must be an integer from 1 to %d, got %q", MaxLimit, v[0])
	}
	return n, nil
}

func parseTime(values url.Values, name string) (time.Time, error) {
	v, ok := values[name]
	if !ok {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v[0])
	if err != nil {
		return time.Time{}, apperr.InvalidField(name, "%s must be an RFC 3339 timestamp such as 2025-01-31T09:00:00Z, got %q", name, v[0])
	}
	return t, nil
}
