package evaluation_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/storage"
)

// outcomes records what Deps.OnEvaluation is told.
type outcomes struct {
	mu   sync.Mutex
	seen []string
}

func (o *outcomes) observe(reason, errorCode string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, reason+"/"+errorCode)
}

func (o *outcomes) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	seen := o.seen
	o.seen = nil
	return seen
}

// TestOnEvaluation: every flag evaluation the OFREP endpoints answer reaches the hook
// with its reason and error code, a bulk evaluation once per flag, and a request refused
// before any flag is evaluated not at all.
func TestOnEvaluation(t *testing.T) {
	var got outcomes
	h := startedOn(t, storage.SQLite, func(d *evaluation.Deps) { d.OnEvaluation = got.observe })
	h.mustDeliver(
		event(t, "e1", flagsv1.TypeFlagCreated, env, "banner", 1, boolFlag),
		event(t, "e2", flagsv1.TypeFlagCreated, env, "off", 1, `{"state":"DISABLED","variants":{"on":true},"defaultVariant":"on"}`),
		event(t, "e3", flagsv1.TypeFlagCreated, env, "ruled", 1,
			`{"state":"ENABLED","variants":{"a":"A","b":"B"},"defaultVariant":"a","targeting":{"if":[{"==":[{"var":"plan"},"pro"]},"b",null]}}`),
	)
	const ctx = `{"context":{"targetingKey":"u1","plan":"pro"}}`
	cases := []struct {
		name   string
		call   func() int
		status int
		want   []string
	}{
		{"static", func() int { return h.evaluate("banner", ctx).Code }, http.StatusOK, []string{"STATIC/"}},
		{"disabled", func() int { return h.evaluate("off", ctx).Code }, http.StatusOK, []string{"DISABLED/"}},
		{"targeting match", func() int { return h.evaluate("ruled", ctx).Code }, http.StatusOK, []string{"TARGETING_MATCH/"}},
		{"default", func() int { return h.evaluate("ruled", `{"context":{"targetingKey":"u1","plan":"free"}}`).Code }, http.StatusOK, []string{"DEFAULT/"}},
		{"unknown flag", func() int { return h.evaluate("nope", ctx).Code }, http.StatusNotFound, []string{"ERROR/FLAG_NOT_FOUND"}},
		{"bad context", func() int { return h.evaluate("banner", `{"context":`).Code }, http.StatusBadRequest, []string{"ERROR/PARSE_ERROR"}},
		{"bulk, once per flag", func() int { return h.bulk(ctx).Code }, http.StatusOK, []string{"STATIC/", "DISABLED/", "TARGETING_MATCH/"}},
		{"bulk refused before evaluating", func() int { return h.bulk(`{"context":`).Code }, http.StatusBadRequest, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if status := tc.call(); status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			seen := got.take()
			slices.Sort(seen)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(seen, want) {
				t.Errorf("OnEvaluation saw %q, want %q", seen, want)
			}
		})
	}
}

// TestSnapshotRevision: the revision evaluations are served from, once loaded.
func TestSnapshotRevision(t *testing.T) {
	h := newHarness(t)
	if rev, loaded := h.mod.SnapshotRevision(env); loaded || rev != 0 {
		t.Fatalf("before Start: (%d, %v), want (0, false)", rev, loaded)
	}
	h.start()
	h.mustDeliver(event(t, "e1", flagsv1.TypeFlagCreated, env, "banner", 1, boolFlag),
		event(t, "e2", flagsv1.TypeFlagCreated, env, "other", 1, boolFlag))
	if rev, loaded := h.mod.SnapshotRevision(env); !loaded || rev != 2 {
		t.Errorf("after two events: (%d, %v), want (2, true)", rev, loaded)
	}
	if rev, loaded := h.mod.SnapshotRevision("staging"); !loaded || rev != 0 {
		t.Errorf("environment no event reached: (%d, %v), want (0, true)", rev, loaded)
	}
}

// The read path's benchmarks with the Prometheus counter the server wires into
// OnEvaluation: compare with BenchmarkEvaluateFlag(s), which run without it.
func BenchmarkEvaluateFlagObserved(b *testing.B) {
	benchObserved(b, "/ofrep/v1/evaluate/flags/flag-0001")
}

func BenchmarkEvaluateFlagsObserved(b *testing.B) { benchObserved(b, "/ofrep/v1/evaluate/flags") }

func benchObserved(b *testing.B, path string) {
	evals, err := metrics.NewEvaluations(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	h := benchHarness(b, 100, func(d *evaluation.Deps) { d.OnEvaluation = evals.Observe })
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(benchContext))
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}
