package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/platform/metrics"
	"github.com/switchyardhq/switchyard/platform/metrics/metricstest"
)

// TestEvaluations: each reason and error code lands in its own series (the prepared
// counters are indexed right), unforeseen pairs included, and every known pair is
// exported from the start.
func TestEvaluations(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, err := metrics.NewEvaluations(reg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(metricstest.Gather(t, reg).Labels("switchyard_ofrep_evaluations_total")); n != 11 {
		t.Errorf("%d series before any evaluation, want 11 (5 reasons + 6 error codes) at 0", n)
	}
	observed := []struct {
		reason, code string
		times        int
	}{
		{ofrepv1.ReasonStatic, "", 1}, {ofrepv1.ReasonDefault, "", 2}, {ofrepv1.ReasonTargetingMatch, "", 3},
		{ofrepv1.ReasonSplit, "", 4}, {ofrepv1.ReasonDisabled, "", 5},
		{ofrepv1.ReasonError, ofrepv1.ErrorFlagNotFound, 6}, {ofrepv1.ReasonError, ofrepv1.ErrorParse, 7},
		{ofrepv1.ReasonError, ofrepv1.ErrorTypeMismatch, 8}, {ofrepv1.ReasonError, ofrepv1.ErrorTargetingKeyMissing, 9},
		{ofrepv1.ReasonError, ofrepv1.ErrorInvalidContext, 10}, {ofrepv1.ReasonError, ofrepv1.ErrorGeneral, 11},
		{"CACHED", "", 12}, {ofrepv1.ReasonError, "PROVIDER_FATAL", 13},
	}
	for _, o := range observed {
		for range o.times {
			e.Observe(o.reason, o.code)
		}
	}
	fams := metricstest.Gather(t, reg)
	for _, o := range observed {
		labels := map[string]string{"reason": o.reason, "error_code": o.code}
		if got, _ := fams.Sum("switchyard_ofrep_evaluations_total", labels); got != float64(o.times) {
			t.Errorf("evaluations_total%v = %v, want %d", labels, got, o.times)
		}
	}
}

func TestEventStreamsAndSnapshotRevision(t *testing.T) {
	reg := prometheus.NewRegistry()
	open := 0
	if err := metrics.NewEventStreams(reg, func() int { return open }); err != nil {
		t.Fatal(err)
	}
	rev, loaded := int64(0), false
	if err := metrics.NewSnapshotRevision(reg, "production", func(env string) (int64, bool) {
		if env != "production" {
			t.Errorf("revision asked for %q, want production", env)
		}
		return rev, loaded
	}); err != nil {
		t.Fatal(err)
	}
	fams := metricstest.Gather(t, reg)
	if _, found := fams.Sum("switchyard_evaluation_snapshot_revision", nil); found {
		t.Error("snapshot revision reported before the snapshots are loaded")
	}
	open, rev, loaded = 3, 42, true
	fams = metricstest.Gather(t, reg)
	if got, _ := fams.Sum("switchyard_ofrep_event_streams_open", nil); got != 3 {
		t.Errorf("event_streams_open = %v, want 3", got)
	}
	if got, _ := fams.Sum("switchyard_evaluation_snapshot_revision", map[string]string{"environment": "production"}); got != 42 {
		t.Errorf("snapshot_revision{environment=production} = %v, want 42", got)
	}
}

// BenchmarkEvaluationsObserve is the cost the read path pays per flag evaluated.
func BenchmarkEvaluationsObserve(b *testing.B) {
	e, err := metrics.NewEvaluations(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Observe(ofrepv1.ReasonTargetingMatch, "")
	}
}
