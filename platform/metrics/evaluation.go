package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// Evaluations counts OFREP flag evaluations:
//
//   - switchyard_ofrep_evaluations_total{reason,error_code}: reason is the OFREP reason
//     (ERROR for a failure), error_code the OFREP error code, empty on success
//
// Observe is on the read path's hot loop: every reason and error code OFREP defines has
// its counter ready (a switch on constants finds it: no hashing, no lock, no
// allocation), and only an unforeseen pair goes through the label lookup.
type Evaluations struct {
	vec       *prometheus.CounterVec
	successes [len(successReasons)]prometheus.Counter
	failures  [len(errorCodes)]prometheus.Counter
}

// successReasons and errorCodes are OFREP's reasons of a success and its error codes;
// the order is the index switch uses in reasonIndex and codeIndex.
var (
	successReasons = [...]string{ofrepv1.ReasonStatic, ofrepv1.ReasonDefault, ofrepv1.ReasonTargetingMatch,
		ofrepv1.ReasonSplit, ofrepv1.ReasonDisabled}
	errorCodes = [...]string{ofrepv1.ErrorFlagNotFound, ofrepv1.ErrorParse, ofrepv1.ErrorTypeMismatch,
		ofrepv1.ErrorTargetingKeyMissing, ofrepv1.ErrorInvalidContext, ofrepv1.ErrorGeneral}
)

// NewEvaluations registers the evaluation counter with reg, every known pair at 0.
func NewEvaluations(reg prometheus.Registerer) (*Evaluations, error) {
	e := &Evaluations{
		vec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ofrep", Name: "evaluations_total",
			Help: "OFREP flag evaluations answered (single, and each flag of a bulk evaluation), by reason and error code (empty on success).",
		}, []string{"reason", "error_code"}),
	}
	for i, reason := range successReasons {
		e.successes[i] = e.vec.WithLabelValues(reason, "")
	}
	for i, code := range errorCodes {
		e.failures[i] = e.vec.WithLabelValues(ofrepv1.ReasonError, code)
	}
	if err := reg.Register(e.vec); err != nil {
		return nil, fmt.Errorf("metrics: register OFREP evaluations: %w", err)
	}
	return e, nil
}

// Observe counts one evaluation. Safe for concurrent use.
func (e *Evaluations) Observe(reason, errorCode string) {
	switch {
	case errorCode == "":
		if i := reasonIndex(reason); i >= 0 {
			e.successes[i].Inc()
			return
		}
	case reason == ofrepv1.ReasonError:
		if i := codeIndex(errorCode); i >= 0 {
			e.failures[i].Inc()
			return
		}
	}
	e.vec.WithLabelValues(reason, errorCode).Inc()
}

func reasonIndex(reason string) int {
	switch reason {
	case ofrepv1.ReasonStatic:
		return 0
	case ofrepv1.ReasonDefault:
		return 1
	case ofrepv1.ReasonTargetingMatch:
		return 2
	case ofrepv1.ReasonSplit:
		return 3
	case ofrepv1.ReasonDisabled:
		return 4
	}
	return -1
}

func codeIndex(code string) int {
	switch code {
	case ofrepv1.ErrorFlagNotFound:
		return 0
	case ofrepv1.ErrorParse:
		return 1
	case ofrepv1.ErrorTypeMismatch:
		return 2
	case ofrepv1.ErrorTargetingKeyMissing:
		return 3
	case ofrepv1.ErrorInvalidContext:
		return 4
	case ofrepv1.ErrorGeneral:
		return 5
	}
	return -1
}

// NewEventStreams registers switchyard_ofrep_event_streams_open, read from open on each
// scrape (the evaluation module's OpenStreams).
func NewEventStreams(reg prometheus.Registerer, open func() int) error {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "ofrep", Name: "event_streams_open",
		Help: "OFREP change-notification streams (SSE, GET /ofrep/v1/events) open now.",
	}, func() float64 { return float64(open()) })
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("metrics: register open event streams: %w", err)
	}
	return nil
}

// SnapshotRevision reports switchyard_evaluation_snapshot_revision{environment}: the
// revision of the flag configuration an environment's evaluations are served from, read
// on each scrape; left out until the snapshots are loaded. Replicas whose revisions
// differ for long are not converging.
type SnapshotRevision struct {
	desc        *prometheus.Desc
	environment string
	revision    func(environment string) (int64, bool)
}

// NewSnapshotRevision registers with reg the revision of environment, as revision (the
// evaluation module's SnapshotRevision) returns it.
func NewSnapshotRevision(reg prometheus.Registerer, environment string, revision func(string) (int64, bool)) error {
	s := &SnapshotRevision{
		desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "evaluation", "snapshot_revision"),
			"Revision of the flag configuration the environment's evaluations are served from.", nil,
			prometheus.Labels{"environment": environment}),
		environment: environment,
		revision:    revision,
	}
	if err := reg.Register(s); err != nil {
		return fmt.Errorf("metrics: register snapshot revision of %q: %w", environment, err)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (s *SnapshotRevision) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *SnapshotRevision) Collect(ch chan<- prometheus.Metric) {
	if rev, loaded := s.revision(s.environment); loaded {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(rev))
	}
}
