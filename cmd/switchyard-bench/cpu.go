package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU accounting from /proc (Linux): the servers' and the generator's CPU time per
// request, and how busy the machine was with anything else during a window. Elsewhere
// every reading is -1 (unknown) and the report shows "-".

// userHZ is the unit of /proc/<pid>/stat's CPU times: fixed at 100 on Linux, whatever
// the kernel's tick rate.
const userHZ = 100

// processCPU returns the user+system CPU time of process pid (every thread) from
// /proc/<pid>/stat, or -1 where that cannot be read (not Linux).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	d, err := parseProcStat(b)
	if err != nil {
		return -1
	}
	return d
}

// parseProcStat reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat line.
// The command name (field 2) is in parentheses and may hold spaces and parentheses, so
// fields are counted from the last ')'.
func parseProcStat(b []byte) (time.Duration, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // fields 14 and 15 of the line; fields[0] is field 3
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("proc stat: CPU time %q is not a tick count", f)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// machineBusy returns the CPU time all CPUs spent busy since boot, as the share of the
// machine this run could not have: user, nice, system, irq and steal (time the hypervisor
// gave to other guests). Softirq is left out: on loopback it is mostly this run's own
// packets, which the processes' CPU times do not include either. -1 where /proc/stat
// cannot be read.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	d, err := parseMachineStat(b)
	if err != nil {
		return -1
	}
	return d
}

// parseMachineStat reads the aggregate "cpu" line of /proc/stat: user nice system idle
// iowait irq softirq steal [guest guest_nice] in ticks (guest time is already in user).
func parseMachineStat(b []byte) (time.Duration, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("proc stat: first line %q is not the aggregate cpu line with 8 counters", line)
	}
	const idle, iowait, softirq = 3, 4, 6
	var ticks int64
	for i, f := range fields[1:9] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("proc stat: counter %q is not a tick count", f)
		}
		if i != idle && i != iowait && i != softirq {
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
