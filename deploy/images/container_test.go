package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// A container here is an image run the way a container runtime runs it, with the pieces a
// runtime uses and nothing else: the image's filesystem unpacked and bind-mounted read-only
// as the root (chroot) in a private mount namespace, a writable volume on the data directory,
// a tmpfs on /tmp, /dev/null and friends, /proc; then the image's user (setgid, setuid) and
// its entrypoint, command and environment. Network and PID namespaces are not used: the
// container shares the machine's loopback, so ports are picked free. It needs root.

// containerSpecEnv carries a containerSpec to the test binary re-executed as the container's
// init (see TestMain).
const containerSpecEnv = "SWITCHYARD_IMAGES_CONTAINER_SPEC"

// containerSpec is what the init needs to turn itself into the container's process.
type containerSpec struct {
	Rootfs, Data, DataTarget, Workdir string
	UID, GID                          int
	Argv, Env                         []string
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(containerSpecEnv); spec != "" {
		err := containerInit(spec)
		fmt.Fprintln(os.Stderr, "container init:", err)
		os.Exit(125)
	}
	os.Exit(m.Run())
}

// containerInit runs in the child, already in its own mount namespace (made private by the Go
// runtime): it mounts, chroots, drops to the image's user and execs the entrypoint. It returns
// only on failure.
func containerInit(raw string) error {
	var s containerSpec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return fmt.Errorf("decode spec: %w", err)
	}
	in := func(p string) string { return filepath.Join(s.Rootfs, p) }
	mounts := []struct {
		source, target, fstype string
		flags                  uintptr
		data                   string
	}{
		{s.Rootfs, s.Rootfs, "", syscall.MS_BIND | syscall.MS_REC, ""},
		{"", s.Rootfs, "", syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV, ""},
		{s.Data, in(s.DataTarget), "", syscall.MS_BIND, ""},
		{"tmpfs", in("/tmp"), "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777,size=64m"},
		{"/dev/null", in("/dev/null"), "", syscall.MS_BIND, ""},
		{"/dev/zero", in("/dev/zero"), "", syscall.MS_BIND, ""},
		{"/dev/random", in("/dev/random"), "", syscall.MS_BIND, ""},
		{"/dev/urandom", in("/dev/urandom"), "", syscall.MS_BIND, ""},
	}
	for _, m := range mounts {
		if err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.source, m.target, err)
		}
	}
	// A fresh proc where the kernel allows it (not inside some containers); else the machine's.
	if err := syscall.Mount("proc", in("/proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		if err := syscall.Mount("/proc", in("/proc"), "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("mount /proc: %w", err)
		}
	}
	if err := syscall.Chroot(s.Rootfs); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := syscall.Chdir(s.Workdir); err != nil {
		return fmt.Errorf("chdir %s: %w", s.Workdir, err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(s.GID); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(s.UID); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return fmt.Errorf("exec %s: %w", s.Argv[0], syscall.Exec(s.Argv[0], s.Argv, s.Env))
}

// container is a running image.
type container struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	// Base is the URL it serves on; Data the host directory behind its data volume.
	Base, Data string
	logs       *syncBuffer
	done       chan struct{}
	exitErr    error
}

// unpack extracts img's filesystem into a new directory, with owners and modes, plus the
// mount points a runtime adds (/dev/*, /proc).
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(root, path.Clean("/"+h.Name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			f, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, target); err != nil {
				t.Fatal(err)
			}
			continue
		default:
			t.Fatalf("unpack: %s has unsupported type %c", h.Name, h.Typeflag)
		}
		if err := os.Lchown(target, h.Uid, h.Gid); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chmod(target, uint32(h.Mode&0o7777)); err != nil {
			t.Fatal(err)
		}
	}
	for _, dev := range []string{"null", "zero", "random", "urandom"} {
		p := filepath.Join(root, "dev", dev)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}
	return root
}

// startContainer runs img (unpacked at rootfs) with env added to the image's, listening on a
// free port on SWITCHYARD_ADDR's host (the image's: every interface).
func startContainer(t *testing.T, name string, img v1.Image, rootfs string, env map[string]string) *container {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	vars := map[string]string{}
	var order []string
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
		order = append(order, k)
	}
	host, _, err := net.SplitHostPort(vars["SWITCHYARD_ADDR"])
	if err != nil {
		t.Fatalf("the image's SWITCHYARD_ADDR: %v", err)
	}
	port := freePort(t)
	env["SWITCHYARD_ADDR"] = net.JoinHostPort(host, strconv.Itoa(port))
	for k, v := range env {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	var envList []string
	for _, k := range order {
		envList = append(envList, k+"="+vars[k])
	}
	uid, gid, err := numericUser(cfg.User)
	if err != nil {
		t.Fatal(err)
	}
	// The data volume starts as the image's data directory (as a Docker volume does).
	dataTarget := vars["SWITCHYARD_DATA_DIR"]
	data := t.TempDir()
	fi, err := os.Stat(filepath.Join(rootfs, dataTarget))
	if err != nil {
		t.Fatalf("data directory %s: %v", dataTarget, err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Chown(data, int(st.Uid), int(st.Gid)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	workdir := cfg.WorkingDir
	if workdir == "" {
		workdir = "/"
	}
	spec, err := json.Marshal(containerSpec{
		Rootfs: rootfs, Data: data, DataTarget: dataTarget, Workdir: workdir, UID: uid, GID: gid,
		Argv: append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...), Env: envList,
	})
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &container{t: t, name: name, Base: "http://127.0.0.1:" + strconv.Itoa(port), Data: data,
		logs: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(self, "-test.run=^$")
	c.cmd.Env = []string{containerSpecEnv + "=" + string(spec)}
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { c.exitErr = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, c.logs.String())
		}
	})
	return c
}

// waitReady waits until /readyz answers 200.
func (c *container) waitReady(within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			c.t.Fatalf("%s exited before it was ready (%v):\n%s", c.name, c.exitErr, c.logs.String())
		default:
		}
		if r, err := http.Get(c.Base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%s not ready within %s:\n%s", c.name, within, c.logs.String())
}

// stop sends SIGTERM, as a runtime does, and expects a clean exit.
func (c *container) stop(within time.Duration) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatalf("signal %s: %v", c.name, err)
	}
	select {
	case <-c.done:
		if c.exitErr != nil {
			c.t.Errorf("%s exited with %v after SIGTERM, want 0:\n%s", c.name, c.exitErr, c.logs.String())
		}
	case <-time.After(within):
		c.t.Fatalf("%s still running %s after SIGTERM", c.name, within)
	}
}

// wait waits for the process to exit by itself and returns its error.
func (c *container) wait(within time.Duration) error {
	c.t.Helper()
	select {
	case <-c.done:
		return c.exitErr
	case <-time.After(within):
		c.t.Fatalf("%s still running after %s", c.name, within)
		return nil
	}
}

// request sends an HTTP request and returns the status and body.
func (c *container) request(method, p, body string, header map[string]string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.Base+p, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s %s: %v", c.name, method, p, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// procStatus is a line of /proc/<pid>/status (e.g. "Uid").
func (c *container) procStatus(key string) string {
	c.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		c.t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// mountOptions are the options of the process's mount at target (as it sees its root).
func (c *container) mountOptions(target string) []string {
	c.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", c.cmd.Process.Pid))
	if err != nil {
		c.t.Fatal(err)
	}
	var opts []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 5 && f[4] == target {
			opts = strings.Split(f[5], ",") // the last mount on target is the visible one
		}
	}
	return opts
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
