package images

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	adminToken = "ci-token-images-0123456789"
	flagBody   = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`
	flagPath   = "/api/v1/environments/development/flags/image-check"
	ofrepPath  = "/ofrep/v1/evaluate/flags/image-check"
)

var (
	admin = map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json", "X-Change-Reason": "deploy/images test"}
	jsonH = map[string]string{"Content-Type": "application/json"}
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running an image needs root (chroot, mounts, setuid), as CI has")
	}
}

// TestMonolithImageRuns runs the switchyard image as a runtime would: as uid 65532 on a
// read-only root with a volume on /data. It refuses to start without admin tokens (it listens
// beyond loopback), and with them it becomes ready, takes a flag on the admin API, evaluates
// it over OFREP, keeps its SQLite files on the volume, and exits 0 on SIGTERM.
func TestMonolithImageRuns(t *testing.T) {
	requireRoot(t)
	v := variant(t, "switchyard")
	img, _ := loadImage(t, v)
	rootfs := unpack(t, img)

	refused := startContainer(t, "switchyard without admin tokens", img, rootfs, map[string]string{})
	if err := refused.wait(20 * time.Second); err == nil {
		t.Error("the image started without SWITCHYARD_ADMIN_TOKENS on a non-loopback address")
	} else if !strings.Contains(refused.logs.String(), "SWITCHYARD_ADMIN_TOKENS is required") {
		t.Errorf("refused to start (%v) without saying why:\n%s", err, refused.logs.String())
	}

	c := startContainer(t, v.Name, img, rootfs, map[string]string{
		"SWITCHYARD_ADMIN_TOKENS": "ci:" + adminToken, "SWITCHYARD_SHUTDOWN_TIMEOUT": "5s",
	})
	c.waitReady(30 * time.Second)
	assertConfined(t, c)

	if status, body := c.request(http.MethodPut, flagPath, flagBody, admin); status != http.StatusCreated {
		t.Fatalf("create a flag: %d %s", status, body)
	}
	if status, body := c.request(http.MethodPost, ofrepPath, `{"context":{"targetingKey":"u1"}}`, jsonH); status != http.StatusOK || !strings.Contains(body, `"value":true`) {
		t.Fatalf("evaluate the flag: %d %s", status, body)
	}
	assertDataOwned(t, c)
	c.stop(15 * time.Second)
}

// TestSplitImagesRun runs the command and read images side by side, events between them over
// a test-owned NATS JetStream, each with its own data volume: each serves only its own API,
// and a flag written to the command container is evaluated by the read container.
func TestSplitImagesRun(t *testing.T) {
	requireRoot(t)
	nats := startNATS(t)
	env := func() map[string]string {
		return map[string]string{
			"SWITCHYARD_ADMIN_TOKENS": "ci:" + adminToken, "SWITCHYARD_SHUTDOWN_TIMEOUT": "5s",
			"SWITCHYARD_BUS": "async", "SWITCHYARD_NATS_URL": nats,
		}
	}
	cv, rv := variant(t, "switchyard-command"), variant(t, "switchyard-read")
	cimg, _ := loadImage(t, cv)
	rimg, _ := loadImage(t, rv)
	command := startContainer(t, cv.Name, cimg, unpack(t, cimg), env())
	command.waitReady(30 * time.Second)
	read := startContainer(t, rv.Name, rimg, unpack(t, rimg), env())
	read.waitReady(30 * time.Second)
	assertConfined(t, command)
	assertConfined(t, read)

	if status, _ := read.request(http.MethodGet, flagPath, "", admin); status != http.StatusNotFound {
		t.Errorf("the read container serves the admin API: %d", status)
	}
	if status, _ := command.request(http.MethodPost, ofrepPath, `{}`, jsonH); status != http.StatusNotFound {
		t.Errorf("the command container serves OFREP: %d", status)
	}
	if status, body := command.request(http.MethodPut, flagPath, flagBody, admin); status != http.StatusCreated {
		t.Fatalf("create a flag on the command container: %d %s", status, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := read.request(http.MethodPost, ofrepPath, `{"context":{"targetingKey":"u1"}}`, jsonH)
		if status == http.StatusOK && strings.Contains(body, `"value":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the read container never served the flag: last answer %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	assertDataOwned(t, command)
	assertDataOwned(t, read)
	read.stop(15 * time.Second)
	command.stop(15 * time.Second)
}

// assertConfined: the process runs as the image's user, its root is read-only, its data
// volume writable.
func assertConfined(t *testing.T, c *container) {
	t.Helper()
	want := strings.Repeat(strconv.Itoa(NonrootUID)+" ", 4)
	if got := c.procStatus("Uid") + " "; got != want {
		t.Errorf("%s runs with uids %q, want %q", c.name, got, want)
	}
	if got := c.procStatus("Gid") + " "; got != want {
		t.Errorf("%s runs with gids %q, want %q", c.name, got, want)
	}
	if opts := c.mountOptions("/"); !slices.Contains(opts, "ro") {
		t.Errorf("%s's root is mounted %v, want read-only", c.name, opts)
	}
	if opts := c.mountOptions("/data"); !slices.Contains(opts, "rw") {
		t.Errorf("%s's /data is mounted %v, want read-write", c.name, opts)
	}
}

// assertDataOwned: the process wrote its files to the data volume, as its user.
func assertDataOwned(t *testing.T, c *container) {
	t.Helper()
	entries, err := os.ReadDir(c.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Errorf("%s wrote nothing to its data volume", c.name)
	}
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(c.Data, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != NonrootUID {
			t.Errorf("%s: %s is owned by uid %d, want %d", c.name, e.Name(), uid, NonrootUID)
		}
	}
}

// startNATS starts a JetStream server of the test's own on a free loopback port.
func startNATS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Fatal("nats-server is needed for the split images (apt-get install nats-server; .ci/run installs it)")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", t.TempDir())
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("nats-server logs:\n%s", logs.String())
		}
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return "nats://" + addr
		}
	}
	t.Fatalf("nats-server did not listen on %s:\n%s", addr, logs.String())
	return ""
}
