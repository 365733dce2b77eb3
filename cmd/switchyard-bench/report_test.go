package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/cmd/switchyard-bench/internal/latency"
)

// m is a measurement of ok responses in a 10 s window whose latencies are all p (so p50
// and p99 are p), with the given server CPU per request.
func m(k kind, ok uint64, p time.Duration, serverPerReq time.Duration) measurement {
	h := latency.New()
	for range ok {
		h.Record(p)
	}
	return measurement{
		Kind: k, Name: string(k), OK: ok, Window: 10 * time.Second, Latency: h,
		ServerCPU: serverPerReq * time.Duration(ok), LoadCPU: 0, Busy: serverPerReq * time.Duration(ok), Capacity: 20 * time.Second,
	}
}

func verdictsOf(r report) map[string]bool {
	out := map[string]bool{}
	for _, v := range r.verdicts {
		out[v.Target] = v.Pass
	}
	return out
}

const (
	targetRatio = "single evaluation >= 70% of the bare handler's req/s"
	targetP99   = "single evaluation p99 no worse than the bare handler's p99"
	target304   = "a 304 is cheaper than a bulk evaluation"
)

func TestBuildReportChecksTargetsAgainstTheBareHandler(t *testing.T) {
	ms := 1 * time.Millisecond
	tests := []struct {
		name   string
		rows   []measurement
		want   map[string]bool
		ratios map[kind]float64 // want vs-bare ratios
	}{
		{
			name: "all met",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 80000, 2*ms, 0), m(kindBulk, 30000, 5*ms, 0), m(kindNotModified, 90000, ms, 0)},
			want: map[string]bool{targetRatio: true, targetP99: true, target304: true}, ratios: map[kind]float64{kindBare: 1, kindSingle: 0.8, kindBulk: 0.3},
		},
		{
			name: "exactly 70% and the same p99 pass",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 70000, 2*ms, 0)},
			want: map[string]bool{targetRatio: true, targetP99: true},
		},
		{
			name: "slow single, worse p99, 304 no cheaper",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 69999, 3*ms, 0), m(kindBulk, 30000, 5*ms, 0), m(kindNotModified, 30000, 5*ms, 0)},
			want: map[string]bool{targetRatio: false, targetP99: false, target304: false},
		},
		{
			name: "no baseline: no ratio targets",
			rows: []measurement{m(kindSingle, 1000, ms, 0), m(kindBulk, 100, ms, 0), m(kindNotModified, 1000, ms, 0)},
			want: map[string]bool{target304: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := buildReport(tt.rows)
			got := verdictsOf(r)
			if len(got) != len(tt.want) {
				t.Errorf("verdicts %v, want %v", got, tt.want)
			}
			for target, pass := range tt.want {
				if p, ok := got[target]; !ok || p != pass {
					t.Errorf("%s: pass %v (present %v), want %v", target, p, ok, pass)
				}
			}
			for _, row := range tt.rows {
				want, ok := tt.ratios[row.Kind]
				if !ok {
					continue
				}
				if got, ok := r.ratio(row); !ok || got < want-1e-9 || got > want+1e-9 {
					t.Errorf("%s: ratio %v (%v), want %v", row.Kind, got, ok, want)
				}
			}
			if len(r.broken) > 0 {
				t.Errorf("broken %v, want none", r.broken)
			}
		})
	}
}

func TestBuildReportSaysWhenTheRunBroke(t *testing.T) {
	withErrors := func(ok, errs uint64) measurement {
		x := m(kindSingle, ok, time.Millisecond, 0)
		x.Errors, x.Samples = errs, []string{"status 503, want 200"}
		return x
	}
	tests := []struct {
		name       string
		row        measurement
		wantBroken string
		wantNote   string
	}{
		{"1% errors is noise", withErrors(99, 1), "", "1 errors (1.000%); e.g. status 503, want 200"},
		{"over 1% is broken", withErrors(98, 2), "2.00% of requests failed (more than 1%); e.g. status 503", ""},
		{"nothing succeeded", withErrors(0, 5), "no successful response; e.g. status 503", ""},
		{"connections closed", func() measurement { x := m(kindSingle, 1000, time.Millisecond, 0); x.Closed = 2; return x }(), "", "keep-alive did not hold: 2 connections were closed"},
		{"a connection closed now and then", func() measurement { x := m(kindSingle, 1000, time.Millisecond, 0); x.Closed = 1; return x }(), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := buildReport([]measurement{m(kindBare, 100, time.Millisecond, 0), tt.row})
			broken, notes := strings.Join(r.broken, "\n"), strings.Join(r.notes, "\n")
			if (tt.wantBroken == "") != (broken == "") || !strings.Contains(broken, tt.wantBroken) {
				t.Errorf("broken %q, want %q", broken, tt.wantBroken)
			}
			if (tt.wantNote == "") != (notes == "") || !strings.Contains(notes, tt.wantNote) {
				t.Errorf("notes %q, want %q", notes, tt.wantNote)
			}
		})
	}
}

func TestMergeAddsRoundsAndKeepsEachRoundsRate(t *testing.T) {
	a, b := m(kindSingle, 1000, time.Millisecond, 10*time.Microsecond), m(kindSingle, 3000, 3*time.Millisecond, 20*time.Microsecond)
	a.Errors, a.Samples, b.Samples, b.Closed = 2, []string{"x"}, []string{"y", "x"}, 1
	got := merge([]measurement{a, b})
	if got.OK != 4000 || got.Errors != 2 || got.Window != 20*time.Second || got.Closed != 1 || got.Capacity != 40*time.Second {
		t.Errorf("merged counts %+v", got)
	}
	if got.rate() != 200 || len(got.RoundRates) != 2 || got.RoundRates[0] != 100 || got.RoundRates[1] != 300 {
		t.Errorf("rate %v, rounds %v; want 200 over [100 300]", got.rate(), got.RoundRates)
	}
	if per, ok := got.perRequest(got.ServerCPU); !ok || per != (10*1000+20*3000)*time.Microsecond/4000 {
		t.Errorf("server CPU per request %v (%v)", per, ok)
	}
	near := func(d, want time.Duration) bool { return d >= want && d <= want+want/128 }
	if !near(got.quantile(0.25), time.Millisecond) || !near(got.quantile(0.5), 3*time.Millisecond) {
		t.Errorf("p25 %v p50 %v: histograms not merged", got.quantile(0.25), got.quantile(0.5))
	}
	if strings.Join(got.Samples, ",") != "x,y" {
		t.Errorf("samples %q, want x,y once each", got.Samples)
	}
	unknown := a
	unknown.ServerCPU = -1
	if got := merge([]measurement{unknown, b}); got.ServerCPU >= 0 {
		t.Errorf("merging an unknown CPU time gave %v, want unknown", got.ServerCPU)
	}
	if got := merge(nil); got.OK != 0 || got.rate() != 0 || got.quantile(0.99) != 0 {
		t.Errorf("merge(nil) = %+v", got)
	}
}

func TestReportTable(t *testing.T) {
	bare, single := m(kindBare, 100000, 2*time.Millisecond, 20*time.Microsecond), m(kindSingle, 80000, 2*time.Millisecond, 30*time.Microsecond)
	bulk, nm := m(kindBulk, 20000, 8*time.Millisecond, 100*time.Microsecond), m(kindNotModified, 50000, 3*time.Millisecond, 25*time.Microsecond)
	again := m(kindBareAgain, 95000, 2*time.Millisecond, 20*time.Microsecond)
	bare.RoundRates, single.RoundRates, again.RoundRates = []float64{10000, 10000}, []float64{9000, 7000}, []float64{9000, 10000}
	bulk.RoundRates, nm.RoundRates = []float64{2000, 2000}, []float64{5000, 5000}
	single.Busy = single.ServerCPU + 4*time.Second // others used 4 s of the 20 s of CPU
	var out strings.Builder
	buildReport([]measurement{bare, single, bulk, nm, again}).write(&out)
	got := out.String()
	for _, want := range []string{
		"scenario", "req/s", "vs bare", "server CPU",
		"bare                                10000   2.00ms   2.00ms       0   100.0%      20.0µs     0.0µs      0%",
		"single                               8000   2.00ms   2.00ms       0    80.0%      30.0µs     0.0µs     20%",
		"304 vs bulk: 2.50x the req/s; server CPU per request 0.25x",
		"noise: the bare handler measured again ran at 95.0% of itself; rounds 90%, 100%; server CPU per request 1.00x; read smaller differences as noise",
		"PASS  single evaluation >= 70% of the bare handler's req/s: 80.0%; rounds 90%, 70%; server CPU per request 1.50x",
		"PASS  single evaluation p99 no worse than the bare handler's p99: 2.00ms vs 2.00ms (the absolute 2.00ms: not met)",
		"PASS  a 304 is cheaper than a bulk evaluation: 2.50x the bulk evaluation's req/s; rounds 2.50x, 2.50x; server CPU per request 0.25x",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "BROKEN") {
		t.Errorf("a clean run reported BROKEN:\n%s", got)
	}
}

func TestFormatLatency(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0µs"}, {812 * time.Microsecond, "812µs"}, {1234 * time.Microsecond, "1.23ms"},
		{12345 * time.Microsecond, "12.3ms"}, {123456 * time.Microsecond, "123ms"},
	}
	for _, tt := range tests {
		if got := formatLatency(tt.d); got != tt.want {
			t.Errorf("formatLatency(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestMissesWithinTheRunsNoiseSaySo(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		rows       []measurement
		withinWant map[string]bool // target -> the detail says "within this run's noise"
	}{
		{
			name: "misses smaller than the noise",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindBareAgain, 90000, 2400*time.Microsecond, 0),
				m(kindSingle, 66000, 2100*time.Microsecond, 0), m(kindBulk, 30000, 5*ms, 0), m(kindNotModified, 28500, 5*ms, 0)},
			withinWant: map[string]bool{targetRatio: true, targetP99: true, target304: true},
		},
		{
			name: "misses larger than the noise",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindBareAgain, 99000, 2*ms, 0),
				m(kindSingle, 50000, 3*ms, 0), m(kindBulk, 30000, 5*ms, 0), m(kindNotModified, 20000, 5*ms, 0)},
			withinWant: map[string]bool{targetRatio: false, targetP99: false, target304: false},
		},
		{
			name:       "no second baseline, no noise to compare with",
			rows:       []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 69000, 2100*time.Microsecond, 0)},
			withinWant: map[string]bool{targetRatio: false, targetP99: false},
		},
		{
			name: "a pass is never annotated",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindBareAgain, 50000, 4*ms, 0),
				m(kindSingle, 90000, 2*ms, 0)},
			withinWant: map[string]bool{targetRatio: false, targetP99: false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := buildReport(tt.rows)
			if len(r.verdicts) != len(tt.withinWant) {
				t.Fatalf("verdicts %+v, want %d", r.verdicts, len(tt.withinWant))
			}
			for _, v := range r.verdicts {
				within := strings.Contains(v.Detail, "a miss within this run's noise")
				if want, ok := tt.withinWant[v.Target]; !ok || within != want {
					t.Errorf("%s (pass %v): %q; want within-noise %v", v.Target, v.Pass, v.Detail, want)
				}
			}
		})
	}
}

// fm is m for flagd's measurement of the same kind.
func fm(k kind, ok uint64, p time.Duration, serverPerReq time.Duration) measurement {
	x := m(k, ok, p, serverPerReq)
	x.Peer, x.Name = flagdPeer, "flagd "+string(k)
	return x
}

func TestFlagdTargetsCompareSwitchyardWithFlagd(t *testing.T) {
	ms := time.Millisecond
	const (
		singleRate = "single evaluation: Switchyard's req/s >= flagd's"
		singleP99  = "single evaluation: Switchyard's p99 <= flagd's"
		bulkRate   = "bulk evaluation: Switchyard's req/s >= flagd's"
		bulkP99    = "bulk evaluation: Switchyard's p99 <= flagd's"
		nmRate     = "bulk, If-None-Match (304): Switchyard's req/s >= flagd's"
		nmP99      = "bulk, If-None-Match (304): Switchyard's p99 <= flagd's"
	)
	tests := []struct {
		name string
		rows []measurement
		want map[string]bool // flagd targets only
	}{
		{
			name: "Switchyard ahead, ties pass",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 80000, 2*ms, 0), fm(kindSingle, 40000, 4*ms, 0),
				m(kindBulk, 30000, 5*ms, 0), fm(kindBulk, 30000, 5*ms, 0)},
			want: map[string]bool{singleRate: true, singleP99: true, bulkRate: true, bulkP99: true},
		},
		{
			name: "flagd ahead",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 40000, 4*ms, 0), fm(kindSingle, 40001, 3*ms, 0),
				m(kindNotModified, 50000, 3*ms, 0), fm(kindNotModified, 60000, 2*ms, 0)},
			want: map[string]bool{singleRate: false, singleP99: false, nmRate: false, nmP99: false},
		},
		{
			name: "a scenario flagd did not run has no flagd target",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 80000, 2*ms, 0), m(kindNotModified, 50000, 3*ms, 0), fm(kindSingle, 40000, 4*ms, 0)},
			want: map[string]bool{singleRate: true, singleP99: true},
		},
		{
			name: "no flagd, no flagd targets",
			rows: []measurement{m(kindBare, 100000, 2*ms, 0), m(kindSingle, 80000, 2*ms, 0)},
			want: map[string]bool{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := buildReport(tt.rows)
			got := map[string]bool{}
			for _, v := range r.verdicts {
				if strings.Contains(v.Target, "flagd") {
					got[v.Target] = v.Pass
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("flagd verdicts %v\nwant %v", got, tt.want)
			}
			// flagd's rows never stand in for Switchyard's in the targets against the bare handler.
			if own := verdictsOf(r); own[targetRatio] != (r.find(kindSingle).rate() >= 0.7*r.bare.rate()) {
				t.Errorf("the bare-handler target used flagd's row: %v", r.verdicts)
			}
		})
	}
}

func TestReportWritesTheFlagdComparison(t *testing.T) {
	us := time.Microsecond
	bare, again := m(kindBare, 100000, 2*time.Millisecond, 20*us), m(kindBareAgain, 100000, 2*time.Millisecond, 20*us)
	single, flSingle := m(kindSingle, 80000, 2*time.Millisecond, 30*us), fm(kindSingle, 40000, 4*time.Millisecond, 60*us)
	bulk, flBulk := m(kindBulk, 20000, 8*time.Millisecond, 100*us), fm(kindBulk, 25000, 6*time.Millisecond, 80*us)
	nm := m(kindNotModified, 50000, 3*time.Millisecond, 25*us)
	bare.RoundRates, again.RoundRates = []float64{10000, 10000}, []float64{9000, 11000}
	single.RoundRates, flSingle.RoundRates = []float64{8000, 8000}, []float64{4000, 5000}
	bulk.RoundRates, flBulk.RoundRates = []float64{2000, 2000}, []float64{2500, 2500}
	var out strings.Builder
	buildReport([]measurement{bare, single, flSingle, bulk, flBulk, nm, again}).write(&out)
	got := out.String()
	for _, want := range []string{
		"flagd single                         4000   4.00ms   4.00ms       0    40.0%      60.0µs     0.0µs      0%",
		"Switchyard vs flagd, same run and load (Switchyard's figure over flagd's: req/s above 1.00x, latency and CPU below 1.00x favour Switchyard):",
		"  scenario                       req/s     p50     p99  server CPU  req/s per round",
		"  single evaluation              2.00x   0.50x   0.50x       0.50x  2.00x, 1.60x",
		"  bulk evaluation                0.80x   1.33x   1.33x       1.25x  0.80x, 0.80x",
		"  bulk, If-None-Match (304)          -       -       -           -  not measured for flagd (see the notes)",
		"PASS  single evaluation: Switchyard's req/s >= flagd's: 2.00x; rounds 2.00x, 1.60x; server CPU per request 0.50x",
		"PASS  single evaluation: Switchyard's p99 <= flagd's: 2.00ms vs 4.00ms (0.50x)",
		"MISS  bulk evaluation: Switchyard's req/s >= flagd's: 0.80x; rounds 0.80x, 0.80x; server CPU per request 1.25x",
		"MISS  bulk evaluation: Switchyard's p99 <= flagd's: 8.00ms vs 6.00ms (1.33x)",
		// The bare-handler lines read Switchyard's rows, not flagd's.
		"PASS  single evaluation >= 70% of the bare handler's req/s: 80.0%",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "targeted flag") {
		t.Errorf("a comparison line for a scenario neither server ran:\n%s", got)
	}

	out.Reset()
	buildReport([]measurement{bare, single, bulk, nm, again}).write(&out)
	if strings.Contains(out.String(), "flagd") {
		t.Errorf("a report without flagd mentions it:\n%s", out.String())
	}
}

func TestFlagdMissWithinTheNoiseSaysSo(t *testing.T) {
	ms := time.Millisecond
	rows := []measurement{m(kindBare, 100000, 2*ms, 0), m(kindBareAgain, 90000, 2*ms, 0), // 10% noise
		m(kindSingle, 95000, 2*ms, 0), fm(kindSingle, 100000, 2*ms, 0), // 5% behind: within
		m(kindBulk, 50000, 2*ms, 0), fm(kindBulk, 100000, 2*ms, 0)} // 50% behind: not
	for _, v := range buildReport(rows).verdicts {
		if !strings.Contains(v.Target, "req/s >= flagd's") {
			continue
		}
		within := strings.Contains(v.Detail, "a miss within this run's noise (10%)")
		if want := strings.HasPrefix(v.Target, "single"); v.Pass || within != want {
			t.Errorf("%s: pass %v, %q; want a MISS, within the noise: %v", v.Target, v.Pass, v.Detail, want)
		}
	}
}
