package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
)

// flagd is the comparison server: the same seed file, the same scenarios, the same load
// and rounds as Switchyard, so that the report can say whether Switchyard's read path is
// faster than flagd's on this machine. flagd-tool/build.sh builds the pinned release
// into $HOME/.cache/switchyard-tools/flagd-<version>/flagd; -flagd names that binary.

// flagdPeer marks flagd's scenarios and measurements (Switchyard's and the bare
// handler's have no peer).
const flagdPeer = "flagd"

// flagdBuildErrorSuffix names the file that flagd-tool/build.sh leaves beside the
// binary's path when a build fails: one line saying why, quoted in the report.
const flagdBuildErrorSuffix = ".build-error"

// flagdUnavailable says why the flagd binary at path cannot be run, or "" when it can.
// A missing binary is not an error of the run: the benchmark measures without flagd.
func flagdUnavailable(path string) string {
	if strings.TrimSpace(path) == "" {
		return "no flagd binary given (-flagd; make flagd-tool builds the pinned release)"
	}
	fi, err := os.Stat(path)
	if err != nil {
		if b, err := os.ReadFile(path + flagdBuildErrorSuffix); err == nil {
			if why := firstLine(b); why != "" {
				return fmt.Sprintf("no binary at %s: the last build failed: %s", path, why)
			}
		}
		return err.Error() + " (make flagd-tool builds it)"
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return path + " is not an executable file"
	}
	return ""
}

// firstLine is the first non-blank line of b, trimmed and cut to 400 bytes.
func firstLine(b []byte) string {
	for line := range strings.SplitSeq(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 400 {
				line = line[:400] + "..."
			}
			return line
		}
	}
	return ""
}

// flagdPorts are the four ports flagd listens on: its gRPC/Connect evaluation API, the
// management port (/readyz, /healthz, /metrics), OFREP, and gRPC sync. Each gets a free
// loopback port, so that flagd never collides with another server on the machine.
type flagdPorts struct {
	eval, management, ofrep, sync int
}

// args is the `flagd start` command line serving flagFile (a flagd flag file, which
// flagd reads by extension: .json) with the file provider.
func (p flagdPorts) args(flagFile string) []string {
	return []string{"start",
		"--port", strconv.Itoa(p.eval),
		"--management-port", strconv.Itoa(p.management),
		"--ofrep-port", strconv.Itoa(p.ofrep),
		"--sync-port", strconv.Itoa(p.sync),
		"--uri", "file:" + flagFile,
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago: each is
// held open until all are chosen, then released for the child to take.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startFlagd runs `flagd start` on free loopback ports with flagFile as its only source,
// and waits until its management port says ready and its OFREP endpoint answers every
// one of the file's flags (flagd loads the file asynchronously after it is ready).
func startFlagd(ctx context.Context, path, flagFile string, flags int, env []string, timeout time.Duration) (*child, error) {
	ps, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	ports := flagdPorts{eval: ps[0], management: ps[1], ofrep: ps[2], sync: ps[3]}
	start := time.Now()
	c, err := startSpec(ctx, childSpec{
		name: "flagd", path: path, args: ports.args(flagFile),
		// No telemetry export: an inherited OTLP endpoint would make flagd export to it.
		env:      append([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_SDK_DISABLED=true"}, env...),
		base:     "http://127.0.0.1:" + strconv.Itoa(ports.ofrep),
		readyURL: "http://127.0.0.1:" + strconv.Itoa(ports.management) + "/readyz",
	}, timeout)
	if err != nil {
		return nil, err
	}
	if err := waitServing(ctx, c, flags, timeout-time.Since(start)); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	return c, nil
}

// waitServing polls c's OFREP bulk evaluation until it answers all n flags.
func waitServing(ctx context.Context, c *child, n int, within time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	last := "no answer yet"
	for {
		got, err := bulkFlags(ctx, client, c.base)
		switch {
		case err != nil:
			last = err.Error()
		case got == n:
			return nil
		default:
			last = fmt.Sprintf("%d of the %d seeded flags", got, n)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not serve the seed in time (last bulk evaluation: %s); output:\n%s", c.name, last, c.out)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-c.done:
			return fmt.Errorf("%s exited before serving the seed (%v); output:\n%s", c.name, c.err, c.out)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// bulkFlags is how many flags base's OFREP bulk evaluation answers for evalContext.
func bulkFlags(ctx context.Context, client *http.Client, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+ofrepv1.PathEvaluateFlags, bytes.NewReader([]byte(evalContext)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var bulk ofrepv1.BulkEvaluation
	if err := json.Unmarshal(body, &bulk); err != nil {
		return 0, fmt.Errorf("not a bulk evaluation: %w", err)
	}
	return len(bulk.Flags), nil
}

// flagdVersionLine is what flagd logs as it starts.
var flagdVersionLine = regexp.MustCompile(`flagd version: (\S+)`)

// flagdVersion is the version flagd logged at start, or "" if it did not.
func (c *child) flagdVersion() string {
	if m := flagdVersionLine.FindStringSubmatch(c.out.String()); m != nil {
		return m[1]
	}
	return ""
}
