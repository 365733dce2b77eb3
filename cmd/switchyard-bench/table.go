package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

const rowFormat = "%-32s %8s %8s %8s %7s %8s %11s %9s %7s\n"

// write prints the table, the 304-vs-bulk ratio, the targets, the notes and what broke.
func (r report) write(w io.Writer) {
	fmt.Fprintf(w, rowFormat, "scenario", "req/s", "p50", "p99", "errors", "vs bare", "server CPU", "load CPU", "others")
	fmt.Fprintf(w, rowFormat, "", "", "", "", "", "", "per req", "per req", "CPU")
	for _, m := range r.rows {
		vsBare := "-"
		if ratio, ok := r.ratio(m); ok {
			vsBare = fmt.Sprintf("%.1f%%", 100*ratio)
		}
		fmt.Fprintf(w, rowFormat, m.Name, fmt.Sprintf("%.0f", m.rate()), formatLatency(m.quantile(0.50)), formatLatency(m.quantile(0.99)),
			fmt.Sprint(m.Errors), vsBare, formatCPU(m.perRequest(m.ServerCPU)), formatCPU(m.perRequest(m.LoadCPU)), formatShare(m.otherShare()))
	}
	fmt.Fprintln(w)
	if again, bare := r.find(kindBareAgain), r.bare; again != nil && bare != nil && bare.rate() > 0 {
		fmt.Fprintf(w, "noise: the bare handler measured again ran at %.1f%% of itself%s%s; read smaller differences as noise\n",
			100*again.rate()/bare.rate(), roundRatios(*again, *bare, "%.0f%%", 100), cpuRatio(*again, *bare))
	}
	if nm, bulk := r.find(kindNotModified), r.find(kindBulk); nm != nil && bulk != nil && bulk.rate() > 0 {
		fmt.Fprintf(w, "304 vs bulk: %.2fx the req/s%s\n", nm.rate()/bulk.rate(), cpuRatio(*nm, *bulk))
	}
	r.writeFlagd(w)
	if len(r.verdicts) > 0 {
		fmt.Fprintln(w, "\ntargets (benchmarks on a shared machine, not tests: a MISS does not fail the run):")
		for _, v := range r.verdicts {
			mark := "MISS"
			if v.Pass {
				mark = "PASS"
			}
			fmt.Fprintf(w, "  %s  %s: %s\n", mark, v.Target, v.Detail)
		}
	}
	for _, n := range r.notes {
		fmt.Fprintln(w, "note:", n)
	}
	for _, b := range r.broken {
		fmt.Fprintln(w, "BROKEN:", b)
	}
}

// find is Switchyard's (or the bare handler's) measurement of kind k.
func (r report) find(k kind) *measurement { return r.findPeer(k, "") }

// findPeer is peer's measurement of kind k ("" for Switchyard and the bare handler).
func (r report) findPeer(k kind, peer string) *measurement {
	for i := range r.rows {
		if r.rows[i].Kind == k && r.rows[i].Peer == peer {
			return &r.rows[i]
		}
	}
	return nil
}

const flagdFormat = "  %-28s %7s %7s %7s %11s  %s"

// writeFlagd prints Switchyard's figures over flagd's for every scenario both ran (none
// when flagd was not measured): above 1.00x favours Switchyard for req/s, below 1.00x
// for latency and CPU.
func (r report) writeFlagd(w io.Writer) {
	measured := false
	for _, row := range r.rows {
		measured = measured || row.Peer == flagdPeer
	}
	if !measured {
		return
	}
	fmt.Fprintln(w, "\nSwitchyard vs flagd, same run and load (Switchyard's figure over flagd's: req/s above 1.00x, latency and CPU below 1.00x favour Switchyard):")
	line := func(args ...any) { fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf(flagdFormat, args...), " ")) }
	line("scenario", "req/s", "p50", "p99", "server CPU", "req/s per round")
	for _, p := range flagdPairs {
		sy, fl := r.find(p.kind), r.findPeer(p.kind, flagdPeer)
		if sy == nil {
			continue
		}
		if fl == nil {
			line(p.label, "-", "-", "-", "-", "not measured for flagd (see the notes)")
			continue
		}
		cpu := "-"
		if a, okA := sy.perRequest(sy.ServerCPU); okA {
			if b, okB := fl.perRequest(fl.ServerCPU); okB {
				cpu = formatRatio(float64(a), float64(b))
			}
		}
		rounds := strings.TrimPrefix(roundRatios(*sy, *fl, "%.2fx", 1), "; rounds ")
		line(p.label, formatRatio(sy.rate(), fl.rate()),
			formatRatio(float64(sy.quantile(0.50)), float64(fl.quantile(0.50))),
			formatRatio(float64(sy.quantile(0.99)), float64(fl.quantile(0.99))), cpu, rounds)
	}
}

// formatLatency prints three significant digits: 812µs, 1.23ms, 12.3ms, 123ms.
func formatLatency(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", us)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", us/1000)
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", us/1000)
	default:
		return fmt.Sprintf("%.0fms", us/1000)
	}
}

func formatCPU(d time.Duration, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}

func formatShare(share float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*share)
}

func firstSample(samples []string) string {
	if len(samples) == 0 {
		return ""
	}
	return "; e.g. " + strings.TrimSpace(samples[0])
}
