package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"time"
)

// child is a server running as a child process on loopback.
type child struct {
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	out  *tail
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// listeningLine is what both switchyard and the bare server print once they listen.
var listeningLine = regexp.MustCompile(`listening on (http://\S+)`)

// startChild runs path with args and extra environment variables (they override the
// inherited ones), waits until it prints its address and its /readyz answers 200, and
// returns it. On any failure the process is stopped and the error carries its output.
func startChild(ctx context.Context, name, path string, args, env []string, timeout time.Duration) (*child, error) {
	return startSpec(ctx, childSpec{name: name, path: path, args: args, env: env}, timeout)
}

// childSpec is a server to start. A server that does not print where it listens (flagd)
// is given its ports instead: base and readyURL are then known in advance.
type childSpec struct {
	name, path string
	args, env  []string
	base       string // the server's URL; empty: read it from its "listening on" line
	readyURL   string // answers 200 once the server is ready; empty: base + "/readyz"
}

// startSpec starts spec's process and waits until it listens and is ready.
func startSpec(ctx context.Context, spec childSpec, timeout time.Duration) (*child, error) {
	name := spec.name
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Env = append(os.Environ(), spec.env...)
	setDeathSignal(cmd)
	c := &child{name: name, cmd: cmd, out: &tail{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stderr = c.out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: stdout pipe: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, spec.path, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			_, _ = c.out.Write(append(sc.Bytes(), '\n'))
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		close(c.done)
	}()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	if spec.base != "" {
		c.base = spec.base
	} else {
		select {
		case c.base = <-found:
		case <-c.done:
			return nil, fmt.Errorf("%s exited before listening (%v); output:\n%s", name, c.err, c.out)
		case <-deadline.C:
			return nil, errors.Join(fmt.Errorf("%s did not listen within %v; output:\n%s", name, timeout, c.out), c.stop())
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), c.stop())
		}
	}
	readyURL := spec.readyURL
	if readyURL == "" {
		readyURL = c.base + "/readyz"
	}
	if err := c.waitReady(ctx, readyURL, deadline.C); err != nil {
		return nil, errors.Join(err, c.stop())
	}
	return c, nil
}

// waitReady polls readyURL until it answers 200, the process exits, or the deadline.
func (c *child) waitReady(ctx context.Context, readyURL string, deadline <-chan time.Time) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last := "no answer yet"
	for {
		resp, err := client.Get(readyURL)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		select {
		case <-tick.C:
		case <-c.done:
			return fmt.Errorf("%s exited before it was ready (%v); output:\n%s", c.name, c.err, c.out)
		case <-deadline:
			return fmt.Errorf("%s was not ready in time (last %s: %s); output:\n%s", c.name, readyURL, last, c.out)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stop asks the process to shut down gracefully (SIGINT), kills it after 15 s, and
// reports an unclean exit.
func (c *child) stop() error {
	select {
	case <-c.done:
		return c.exitErr()
	default:
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
		return c.exitErr()
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within 15 s of SIGINT and was killed; output:\n%s", c.name, c.out)
	}
}

func (c *child) exitErr() error {
	if c.err != nil {
		return fmt.Errorf("%s exited with %v; output:\n%s", c.name, c.err, c.out)
	}
	return nil
}

// cpu is the CPU time the process has used so far, or -1 where it cannot be read.
func (c *child) cpu() time.Duration { return processCPU(c.cmd.Process.Pid) }

// tail keeps the last max bytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
