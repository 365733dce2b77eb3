package main

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want time.Duration
		err  string
	}{
		{"plain", "1234 (switchyard) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 9 0 100 0 0", 3800 * time.Millisecond, ""},
		{"name with spaces and parentheses", "77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 0 0", 30 * time.Millisecond, ""},
		{"no name", "1234 switchyard S 1", 0, "no command name"},
		{"truncated", "1234 (x) S 1 2 3", 0, "fields after the command name"},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 2 0", 0, `"ten" is not a tick count`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tt.line))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseProcStat = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseMachineStat(t *testing.T) {
	tests := []struct {
		name string
		text string
		want time.Duration
		err  string
	}{
		// user nice system idle iowait irq softirq steal: busy = 100+1+50+7+30 ticks
		{"with guest columns", "cpu  100 1 50 9000 40 7 20 30 0 0\ncpu0 50 0 25 4500 20 0 10 15 0 0\n", 1880 * time.Millisecond, ""},
		{"minimal", "cpu 1 0 0 5 5 0 0 0", 10 * time.Millisecond, ""},
		{"per-cpu line first", "cpu0 1 0 0 5 5 0 0 0\n", 0, "not the aggregate cpu line"},
		{"too short", "cpu 1 2 3\n", 0, "not the aggregate cpu line"},
		{"negative", "cpu 1 -2 0 5 5 0 0 0", 0, `"-2" is not a tick count`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMachineStat([]byte(tt.text))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseMachineStat = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestCPUReadingsOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		if processCPU(os.Getpid()) != -1 || machineBusy() != -1 {
			t.Fatal("without /proc every reading must be unknown (-1)")
		}
		return
	}
	if got := processCPU(os.Getpid()); got < 0 {
		t.Errorf("processCPU(self) = %v, want a reading", got)
	}
	if got := machineBusy(); got <= 0 {
		t.Errorf("machineBusy() = %v, want a reading", got)
	}
	if got := processCPU(-1); got != -1 {
		t.Errorf("processCPU(-1) = %v, want unknown", got)
	}
}
