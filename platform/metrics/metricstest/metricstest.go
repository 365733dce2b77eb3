// Package metricstest reads metrics in tests: from a registry (Gather) or from a
// /metrics response body (Parse), into Families to query by name and labels.
package metricstest

import (
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are metric families by name.
type Families map[string]*dto.MetricFamily

// Parse reads the Prometheus text exposition format, failing tb when it does not parse.
func Parse(tb testing.TB, r io.Reader) Families {
	tb.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		tb.Fatalf("metrics do not parse as the Prometheus text format: %v", err)
	}
	return fams
}

// Gather collects g's metrics, failing tb on an error.
func Gather(tb testing.TB, g prometheus.Gatherer) Families {
	tb.Helper()
	got, err := g.Gather()
	if err != nil {
		tb.Fatalf("gather metrics: %v", err)
	}
	fams := Families{}
	for _, f := range got {
		fams[f.GetName()] = f
	}
	return fams
}

// Sum adds up the values of name's series that carry every label in labels (an empty
// value matching an absent label): a counter's or gauge's value, a histogram's or
// summary's sample count. found is false when no series matches.
func (f Families) Sum(name string, labels map[string]string) (sum float64, found bool) {
	fam, ok := f[name]
	if !ok {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if !matches(m, labels) {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Summary != nil:
			sum += float64(m.Summary.GetSampleCount())
		}
	}
	return sum, found
}

// Labels lists the label sets of name's series, for failure messages and checks on
// what labels exist.
func (f Families) Labels(name string) []map[string]string {
	var out []map[string]string
	for _, m := range f[name].GetMetric() {
		ls := map[string]string{}
		for _, l := range m.GetLabel() {
			ls[l.GetName()] = l.GetValue()
		}
		out = append(out, ls)
	}
	return out
}

// Names lists the families' names, sorted.
func (f Families) Names() []string { return slices.Sorted(maps.Keys(f)) }

func matches(m *dto.Metric, labels map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range labels {
		if have[k] != v { // as in Prometheus, an absent label and an empty one are the same
			return false
		}
	}
	return true
}
