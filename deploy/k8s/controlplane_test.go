package k8s

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BinEnv names the directory holding kube-apiserver, etcd and kubectl (and, for the
// simulated rollout, kube-controller-manager, kube-scheduler and kwok); make k8s-dry-run
// builds them and sets it.
const BinEnv = "SWITCHYARD_K8S_BIN"

// controlPlane is an etcd and a kube-apiserver on loopback, with throwaway certificates and
// service-account keys in a temporary directory, stopped when the test ends.
type controlPlane struct {
	t          *testing.T
	bin, dir   string
	server     string // https://127.0.0.1:<port>
	kubeconfig string
	admin      tls.Certificate
	caPool     *x509.CertPool
}

// requireBin returns the tools directory, skipping the test when it is not configured
// (plain `go test` and k8s-render-test), and failing when it is but lacks a tool.
func requireBin(t *testing.T, tools ...string) string {
	t.Helper()
	bin := os.Getenv(BinEnv)
	if bin == "" {
		t.Skipf("%s is not set: `make k8s-dry-run` builds kube-apiserver, etcd and kubectl and runs this test", BinEnv)
	}
	for _, tool := range tools {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			t.Fatalf("%s=%s lacks %s: %v", BinEnv, bin, tool, err)
		}
	}
	return bin
}

// startControlPlane starts etcd and kube-apiserver and waits until the API server is ready.
func startControlPlane(t *testing.T, bin string) *controlPlane {
	t.Helper()
	cp := &controlPlane{t: t, bin: bin, dir: t.TempDir()}
	pki := cp.writePKI()

	etcdPort, peerPort, apiPort := freePort(t), freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	cp.start("etcd", filepath.Join(bin, "etcd"),
		"--name=default", "--data-dir="+filepath.Join(cp.dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL, "--unsafe-no-fsync", "--log-level=warn")
	cp.waitFor("etcd", 30*time.Second, func() error {
		resp, err := http.Get(etcdURL + "/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/health: %s", resp.Status)
		}
		return nil
	})

	cp.server = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	cp.start("kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", apiPort),
		"--tls-cert-file="+pki["serving.crt"], "--tls-private-key-file="+pki["serving.key"],
		"--client-ca-file="+pki["ca.crt"], "--cert-dir="+filepath.Join(cp.dir, "apiserver-certs"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki["sa.pub"], "--service-account-signing-key-file="+pki["sa.key"],
		"--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC", "--profiling=false")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: cp.caPool, Certificates: []tls.Certificate{cp.admin}, MinVersion: tls.VersionTLS12,
	}}}
	cp.waitFor("kube-apiserver", 3*time.Minute, func() error {
		resp, err := client.Get(cp.server + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	})
	cp.writeKubeconfig(pki)
	return cp
}

// writePKI creates a CA, the API server's serving certificate, an administrator's client
// certificate (group system:masters) and the service-account signing key pair; it returns
// the files' paths by name.
func (cp *controlPlane) writePKI() map[string]string {
	t := cp.t
	paths := map[string]string{}
	write := func(name, typ string, der []byte) {
		path := filepath.Join(cp.dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		paths[name] = path
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	serial := int64(1)
	sign := func(tmpl *x509.Certificate, pub any, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert, der
	}

	caKey := newKey()
	ca, caDER := sign(&x509.Certificate{Subject: pkix.Name{CommonName: "switchyard-test-ca"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}, &caKey.PublicKey, nil, caKey)
	write("ca.crt", "CERTIFICATE", caDER)
	cp.caPool = x509.NewCertPool()
	cp.caPool.AddCert(ca)

	servingKey := newKey()
	_, servingDER := sign(&x509.Certificate{Subject: pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		&servingKey.PublicKey, ca, caKey)
	write("serving.crt", "CERTIFICATE", servingDER)
	write("serving.key", "PRIVATE KEY", keyDER(servingKey))

	adminKey := newKey()
	_, adminDER := sign(&x509.Certificate{Subject: pkix.Name{CommonName: "switchyard-ci", Organization: []string{"system:masters"}},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		&adminKey.PublicKey, ca, caKey)
	write("admin.crt", "CERTIFICATE", adminDER)
	write("admin.key", "PRIVATE KEY", keyDER(adminKey))
	admin, err := tls.LoadX509KeyPair(paths["admin.crt"], paths["admin.key"])
	if err != nil {
		t.Fatal(err)
	}
	cp.admin = admin

	saKey := newKey()
	write("sa.key", "PRIVATE KEY", keyDER(saKey))
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	write("sa.pub", "PUBLIC KEY", pub)
	return paths
}

func (cp *controlPlane) writeKubeconfig(pki map[string]string) {
	b64 := func(name string) string {
		data, err := os.ReadFile(pki[name])
		if err != nil {
			cp.t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(data)
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, cp.server, b64("ca.crt"), b64("admin.crt"), b64("admin.key"))
	cp.kubeconfig = filepath.Join(cp.dir, "kubeconfig")
	if err := os.WriteFile(cp.kubeconfig, []byte(cfg), 0o600); err != nil {
		cp.t.Fatal(err)
	}
}

// start runs a control-plane process with its output in a log file; it is stopped (TERM,
// then KILL) when the test ends, and its log's tail is shown if the test failed.
func (cp *controlPlane) start(name, path string, args ...string) *exec.Cmd {
	t := cp.t
	logPath := filepath.Join(cp.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Killed with the test binary, even when it dies without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("%s log (last 3000 bytes):\n%s", name, tail(logPath, 3000))
		}
	})
	return cmd
}

// waitFor polls check until it succeeds or timeout passes.
func (cp *controlPlane) waitFor(what string, timeout time.Duration, check func() error) {
	cp.t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			cp.t.Logf("%s ready after %s", what, time.Since(start).Round(100*time.Millisecond))
			return
		}
		if time.Since(start) > timeout {
			cp.t.Fatalf("%s not ready after %s: %v", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// kubectl runs the kubectl beside the control plane against it, with stdin as input.
func (cp *controlPlane) kubectl(stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(cp.bin, "kubectl"), append([]string{"--kubeconfig", cp.kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}

// freePort asks the kernel for an unused loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// documents splits rendered YAML into documents, keeping those for which keep is true.
func documents(rendered []byte, keep func(doc string) bool) []byte {
	var out []string
	for _, doc := range strings.Split("\n"+string(rendered), "\n---\n") {
		if strings.TrimSpace(doc) != "" && keep(doc) {
			out = append(out, strings.TrimPrefix(doc, "\n"))
		}
	}
	return []byte(strings.Join(out, "\n---\n"))
}

func isNamespace(doc string) bool {
	return strings.Contains("\n"+doc, "\nkind: Namespace\n")
}
