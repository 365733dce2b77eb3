package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/switchyardhq/switchyard/sdk"
)

// flagSpec is a flag the loop evaluates and the type it asks for.
type flagSpec struct {
	key  string
	kind string // bool, string, int, float, object
}

// parseFlags reads "key:kind,key:kind" (kind defaults to bool).
func parseFlags(s string) ([]flagSpec, error) {
	var out []flagSpec
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, kind, _ := strings.Cut(item, ":")
		if kind == "" {
			kind = "bool"
		}
		switch kind {
		case "bool", "string", "int", "float", "object":
		default:
			return nil, fmt.Errorf("flag %q: kind %q is not bool, string, int, float or object", key, kind)
		}
		out = append(out, flagSpec{key: key, kind: kind})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no flags to evaluate")
	}
	return out, nil
}

// evaluation is one evaluation the loop made.
type evaluation struct {
	key     string
	user    int
	value   any
	reason  string
	code    string
	source  sdk.Source
	latency time.Duration
}

// failed reports whether the application got its default because of an error.
func (e evaluation) failed() bool { return e.code != "" }

// app evaluates every flag for every user, again and again, as an application
// serving requests would, and keeps a tally of who answered.
type app struct {
	client  *sdk.Client
	flags   []flagSpec
	users   []map[string]any
	timeout time.Duration // each evaluation's deadline, as a request handler would set

	mu    sync.Mutex
	tally tally
}

func newApp(c *sdk.Client, flags []flagSpec, users int, timeout time.Duration) *app {
	a := &app{client: c, flags: flags, timeout: timeout}
	for i := range users {
		plan := "free"
		if i%3 == 0 {
			plan = "pro"
		}
		a.users = append(a.users, map[string]any{"targetingKey": fmt.Sprintf("user-%d", i), "plan": plan})
	}
	a.tally.reset()
	return a
}

// tick evaluates every flag for every user once, concurrently per user.
func (a *app) tick(ctx context.Context) []evaluation {
	out := make([]evaluation, len(a.users)*len(a.flags))
	var wg sync.WaitGroup
	for u := range a.users {
		wg.Go(func() {
			for f, spec := range a.flags {
				out[u*len(a.flags)+f] = a.evaluate(ctx, spec, u)
			}
		})
	}
	wg.Wait()
	a.mu.Lock()
	for _, e := range out {
		a.tally.add(e)
	}
	a.mu.Unlock()
	return out
}

func (a *app) evaluate(ctx context.Context, spec flagSpec, user int) evaluation {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	evalCtx := a.users[user]
	start := time.Now()
	e := evaluation{key: spec.key, user: user}
	switch spec.kind {
	case "bool":
		r := a.client.Boolean(ctx, spec.key, false, evalCtx)
		e.value, e.reason, e.code, e.source = r.Value, r.Reason, r.ErrorCode, r.Source
	case "string":
		r := a.client.String(ctx, spec.key, "", evalCtx)
		e.value, e.reason, e.code, e.source = r.Value, r.Reason, r.ErrorCode, r.Source
	case "int":
		r := a.client.Int(ctx, spec.key, 0, evalCtx)
		e.value, e.reason, e.code, e.source = r.Value, r.Reason, r.ErrorCode, r.Source
	case "float":
		r := a.client.Float(ctx, spec.key, 0, evalCtx)
		e.value, e.reason, e.code, e.source = r.Value, r.Reason, r.ErrorCode, r.Source
	case "object":
		r := a.client.Object(ctx, spec.key, nil, evalCtx)
		e.value, e.reason, e.code, e.source = r.Value, r.Reason, r.ErrorCode, r.Source
	}
	e.latency = time.Since(start)
	return e
}

// report returns the tally since the last report and starts a new one.
func (a *app) report() tally {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tally
	a.tally.reset()
	return t
}

// tally counts evaluations by the layer that answered, failures, and latencies.
type tally struct {
	bySource  map[sdk.Source]int
	failed    int
	total     int
	latencies []time.Duration
}

func (t *tally) reset() { *t = tally{bySource: map[sdk.Source]int{}} }

func (t *tally) add(e evaluation) {
	t.total++
	t.bySource[e.source]++
	if e.failed() {
		t.failed++
	}
	t.latencies = append(t.latencies, e.latency)
}

// percentile returns the p-th percentile latency (0 < p <= 100).
func (t tally) percentile(p float64) time.Duration {
	if len(t.latencies) == 0 {
		return 0
	}
	s := slices.Clone(t.latencies)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// sources renders the per-layer counts, in layer order: "memory=10 primary=2".
func (t tally) sources() string {
	var parts []string
	for _, src := range sdk.Sources() {
		if n := t.bySource[src]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", src, n))
		}
	}
	return strings.Join(parts, " ")
}

// printTable writes rows of a report (a header first) as aligned columns.
func printTable(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}
