package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/cmd/switchyard-bench/internal/latency"
)

// kind identifies a scenario for the targets that compare two of them.
type kind string

const (
	kindBare        kind = "bare"
	kindBareAgain   kind = "bare-again" // the same baseline, measured as a scenario: the run's noise
	kindSingle      kind = "single"
	kindTargeted    kind = "targeted"
	kindBulk        kind = "bulk"
	kindNotModified kind = "not-modified"
)

// The read path's targets (the issue's), read against the bare handler of the same run,
// and the error rate above which a run is broken rather than slow.
const (
	minSingleRatio = 0.70
	absoluteP99    = 2 * time.Millisecond
	maxErrorRate   = 0.01
	// A connection closed now and then is the client's transport giving up on a slow
	// write on a loaded machine; more than one per thousand requests is a server that
	// does not keep connections alive.
	minRequestsPerClose = 1000
)

// measurement is one scenario's measured window, or the merge of its rounds.
type measurement struct {
	Kind       kind
	Peer       string // "" for Switchyard and the bare handler; flagdPeer for flagd
	Name       string
	OK         uint64
	Errors     uint64
	Samples    []string // a few distinct errors
	Window     time.Duration
	Latency    *latency.Histogram // of the OK responses
	Closed     uint64             // connections closed during the window
	ServerCPU  time.Duration      // the server process's CPU time in the window; < 0 when unknown
	LoadCPU    time.Duration      // the generator's CPU time in the window; < 0 when unknown
	Busy       time.Duration      // every CPU's non-idle time in the window; < 0 when unknown
	Capacity   time.Duration      // the window times the number of CPUs
	RoundRates []float64          // req/s of each round, in round order
}

// merge adds up the rounds of one scenario: counts, windows and CPU times add, latency
// histograms merge, and each round's req/s is kept for the spread.
func merge(rounds []measurement) measurement {
	if len(rounds) == 0 {
		return measurement{Latency: latency.New()}
	}
	m := measurement{Kind: rounds[0].Kind, Peer: rounds[0].Peer, Name: rounds[0].Name, Latency: latency.New()}
	samples := map[string]bool{}
	for _, r := range rounds {
		m.OK += r.OK
		m.Errors += r.Errors
		m.Window += r.Window
		m.Closed += r.Closed
		m.ServerCPU = addCPU(m.ServerCPU, r.ServerCPU)
		m.LoadCPU = addCPU(m.LoadCPU, r.LoadCPU)
		m.Busy = addCPU(m.Busy, r.Busy)
		m.Capacity += r.Capacity
		if r.Latency != nil {
			m.Latency.Merge(r.Latency)
		}
		m.RoundRates = append(m.RoundRates, r.rate())
		for _, s := range r.Samples {
			samples[s] = true
		}
	}
	for s := range samples {
		m.Samples = append(m.Samples, s)
	}
	sort.Strings(m.Samples)
	return m
}

// addCPU adds CPU times of which either may be unknown (< 0, which wins).
func addCPU(a, b time.Duration) time.Duration {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

// otherShare is the share of the machine's CPU that neither the server nor the generator
// used while the window was busy: other processes, the kernel's own threads, and steal.
func (m measurement) otherShare() (float64, bool) {
	if m.Busy < 0 || m.ServerCPU < 0 || m.LoadCPU < 0 || m.Capacity <= 0 {
		return 0, false
	}
	return max(0, float64(m.Busy-m.ServerCPU-m.LoadCPU)/float64(m.Capacity)), true
}

func (m measurement) quantile(q float64) time.Duration {
	if m.Latency == nil {
		return 0
	}
	return m.Latency.Quantile(q)
}

func (m measurement) rate() float64 {
	if m.Window <= 0 {
		return 0
	}
	return float64(m.OK) / m.Window.Seconds()
}

func (m measurement) errorRate() float64 {
	if m.OK+m.Errors == 0 {
		return 0
	}
	return float64(m.Errors) / float64(m.OK+m.Errors)
}

// perRequest divides a CPU time over the OK requests; ok is false when unknown.
func (m measurement) perRequest(cpu time.Duration) (time.Duration, bool) {
	if cpu < 0 || m.OK == 0 {
		return 0, false
	}
	return cpu / time.Duration(m.OK), true
}

// verdict is one target's PASS or MISS.
type verdict struct {
	Pass   bool
	Target string
	Detail string
}

// report is a run's table, targets, notes, and the reasons it is broken (if any).
type report struct {
	rows     []measurement
	bare     *measurement
	verdicts []verdict
	notes    []string
	broken   []string
}

// buildReport compares every measurement with the bare handler's, Switchyard's with
// flagd's, and checks the targets whose scenarios were measured.
func buildReport(ms []measurement) report {
	r := report{rows: ms}
	byKind, flagd := map[kind]*measurement{}, map[kind]*measurement{}
	for i := range ms {
		m := &ms[i]
		if m.Peer == flagdPeer {
			flagd[m.Kind] = m
		} else {
			byKind[m.Kind] = m
		}
		switch {
		case m.OK == 0:
			r.broken = append(r.broken, fmt.Sprintf("%s: no successful response%s", m.Name, firstSample(m.Samples)))
		case m.errorRate() > maxErrorRate:
			r.broken = append(r.broken, fmt.Sprintf("%s: %.2f%% of requests failed (more than %.0f%%)%s",
				m.Name, 100*m.errorRate(), 100*maxErrorRate, firstSample(m.Samples)))
		case m.Errors > 0:
			r.notes = append(r.notes, fmt.Sprintf("%s: %d errors (%.3f%%)%s", m.Name, m.Errors, 100*m.errorRate(), firstSample(m.Samples)))
		}
		if m.Closed*minRequestsPerClose > m.OK {
			r.notes = append(r.notes, fmt.Sprintf("%s: keep-alive did not hold: %d connections were closed during the measured window, for %d requests", m.Name, m.Closed, m.OK))
		}
	}
	r.bare = byKind[kindBare]
	r.verdicts = append(targets(byKind), flagdTargets(byKind, flagd)...)
	return r
}

// targets checks the targets whose scenarios were measured. A MISS by less than
// the run's own noise says so.
func targets(byKind map[kind]*measurement) []verdict {
	var out []verdict
	bare, single, bulk, notModified := byKind[kindBare], byKind[kindSingle], byKind[kindBulk], byKind[kindNotModified]
	n := runNoise(bare, byKind[kindBareAgain])
	if bare != nil && single != nil && bare.rate() > 0 {
		ratio := single.rate() / bare.rate()
		pass := ratio >= minSingleRatio
		out = append(out, verdict{
			Pass:   pass,
			Target: fmt.Sprintf("single evaluation >= %.0f%% of the bare handler's req/s", 100*minSingleRatio),
			Detail: fmt.Sprintf("%.1f%%%s%s%s", 100*ratio, roundRatios(*single, *bare, "%.0f%%", 100), cpuRatio(*single, *bare),
				withinNoise(pass, 1-ratio/minSingleRatio, n.rate)),
		})
		p99, bareP99 := single.quantile(0.99), bare.quantile(0.99)
		met := "met"
		if p99 >= absoluteP99 {
			met = "not met"
		}
		pass = p99 <= bareP99
		out = append(out, verdict{
			Pass:   pass,
			Target: "single evaluation p99 no worse than the bare handler's p99",
			Detail: fmt.Sprintf("%s vs %s (the absolute %s: %s)%s", formatLatency(p99), formatLatency(bareP99), formatLatency(absoluteP99), met,
				withinNoise(pass, float64(p99)/float64(max(bareP99, 1))-1, n.p99)),
		})
	}
	if bulk != nil && notModified != nil && bulk.rate() > 0 {
		ratio := notModified.rate() / bulk.rate()
		pass := ratio > 1
		out = append(out, verdict{
			Pass:   pass,
			Target: "a 304 is cheaper than a bulk evaluation",
			Detail: fmt.Sprintf("%.2fx the bulk evaluation's req/s%s%s%s", ratio,
				roundRatios(*notModified, *bulk, "%.2fx", 1), cpuRatio(*notModified, *bulk), withinNoise(pass, 1-ratio, n.rate)),
		})
	}
	return out
}

// noise is how far the bare handler measured a second time strays from the first, in
// req/s and in p99, as fractions (0.07 is 7%); zero without the second measurement.
type noise struct{ rate, p99 float64 }

func runNoise(bare, again *measurement) noise {
	if bare == nil || again == nil || bare.rate() <= 0 || bare.quantile(0.99) <= 0 {
		return noise{}
	}
	abs := func(x float64) float64 { return max(x, -x) }
	return noise{
		rate: abs(again.rate()/bare.rate() - 1),
		p99:  abs(float64(again.quantile(0.99))/float64(bare.quantile(0.99)) - 1),
	}
}

// withinNoise marks a MISS whose shortfall (a fraction of the target) is no larger than
// the run's noise.
func withinNoise(pass bool, shortfall, noise float64) string {
	if pass || noise <= 0 || shortfall > noise {
		return ""
	}
	return fmt.Sprintf("; a miss within this run's noise (%.0f%%)", 100*noise)
}

// cpuRatio compares the server CPU per request of a and b ("; server CPU per request
// 1.20x"), which other processes' load barely moves; empty when unknown.
func cpuRatio(a, b measurement) string {
	ca, okA := a.perRequest(a.ServerCPU)
	cb, okB := b.perRequest(b.ServerCPU)
	if !okA || !okB || cb <= 0 {
		return ""
	}
	return fmt.Sprintf("; server CPU per request %.2fx", float64(ca)/float64(cb))
}

// roundRatios shows a ratio per round ("; rounds 95%, 97%, 96%"), the run's own measure of
// its noise; empty unless both sides have the same rounds, more than one.
func roundRatios(a, b measurement, format string, scale float64) string {
	if len(a.RoundRates) < 2 || len(a.RoundRates) != len(b.RoundRates) {
		return ""
	}
	parts := make([]string, len(a.RoundRates))
	for i := range a.RoundRates {
		if b.RoundRates[i] <= 0 {
			return ""
		}
		parts[i] = fmt.Sprintf(format, scale*a.RoundRates[i]/b.RoundRates[i])
	}
	return "; rounds " + strings.Join(parts, ", ")
}

// ratio is m's req/s over the bare handler's; ok is false without a baseline.
func (r report) ratio(m measurement) (float64, bool) {
	if r.bare == nil || r.bare.rate() <= 0 {
		return 0, false
	}
	return m.rate() / r.bare.rate(), true
}

// flagdPairs are the scenarios measured on both Switchyard and flagd, in report order,
// with the label the comparison uses.
var flagdPairs = []struct {
	kind  kind
	label string
}{
	{kindSingle, "single evaluation"},
	{kindTargeted, "single, targeted flag"},
	{kindBulk, "bulk evaluation"},
	{kindNotModified, "bulk, If-None-Match (304)"},
}

// flagdTargets checks, for every scenario measured on both servers, that Switchyard
// serves at least flagd's req/s and that its p99 is no worse than flagd's. A MISS by
// less than the run's own noise says so.
func flagdTargets(byKind, flagd map[kind]*measurement) []verdict {
	var out []verdict
	n := runNoise(byKind[kindBare], byKind[kindBareAgain])
	for _, p := range flagdPairs {
		sy, fl := byKind[p.kind], flagd[p.kind]
		if sy == nil || fl == nil || fl.rate() <= 0 {
			continue
		}
		ratio := sy.rate() / fl.rate()
		pass := ratio >= 1
		out = append(out, verdict{
			Pass:   pass,
			Target: fmt.Sprintf("%s: Switchyard's req/s >= flagd's", p.label),
			Detail: fmt.Sprintf("%.2fx%s%s%s", ratio, roundRatios(*sy, *fl, "%.2fx", 1), cpuRatio(*sy, *fl), withinNoise(pass, 1-ratio, n.rate)),
		})
		p99, flP99 := sy.quantile(0.99), fl.quantile(0.99)
		pass = p99 <= flP99
		out = append(out, verdict{
			Pass:   pass,
			Target: fmt.Sprintf("%s: Switchyard's p99 <= flagd's", p.label),
			Detail: fmt.Sprintf("%s vs %s (%s)%s", formatLatency(p99), formatLatency(flP99), formatRatio(float64(p99), float64(flP99)),
				withinNoise(pass, float64(p99)/float64(max(flP99, 1))-1, n.p99)),
		})
	}
	return out
}

// formatRatio is a/b as "0.85x", or "-" when b is zero.
func formatRatio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
