// Package testkube starts a real etcd and a real kube-apiserver on loopback
// for a test, and offers the few Kubernetes API calls Coffer's tests need:
// namespaces, service accounts, TokenRequest tokens and a token reviewer.
//
// It talks to the API server with net/http and encoding/json rather than
// client-go: the handful of calls below need no more, and client-go would
// pull dozens of modules into the main module for tests alone.
//
// No controller-manager runs: service accounts are created explicitly, and a
// deleted namespace stays Terminating (nothing finalises it).
package testkube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/testport"
)

// Version is the kube-apiserver version scripts/kube-apiserver.sh builds.
const Version = "v1.31.4"

// Issuer is the service-account token issuer the API server is started with.
const Issuer = "https://kubernetes.default.svc.cluster.local"

// readyTimeout bounds the wait for etcd and the API server; both are slow
// to start on a loaded 2-core machine.
const readyTimeout = 3 * time.Minute

// ErrNotReady is returned when a process does not become ready in time.
var ErrNotReady = errors.New("testkube: not ready")

// Cluster is a running etcd + kube-apiserver pair.
type Cluster struct {
	// URL is the API server's base URL, https://127.0.0.1:<port>.
	URL string
	// CAPEM is the PEM CA certificate that signed the API server's
	// serving certificate.
	CAPEM []byte
	// SigningKeyPEM is the PEM public key that verifies service-account
	// tokens (what Vault's pem_keys takes).
	SigningKeyPEM []byte

	adminToken string
	client     *http.Client
	dir        string
}

// String keeps the admin token out of test logs.
func (c *Cluster) String() string { return "testkube(" + c.URL + ")" }

// Start runs etcd and kube-apiserver in a temp directory on free loopback
// ports, waits for /readyz and stops both when the test ends. A missing
// binary skips the test, except in CI (CI=true) where it fails.
func Start(t testing.TB) *Cluster {
	t.Helper()
	etcdBin, apiBin, err := binaries()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testkube: %v (run scripts/deps.sh)", err)
		}
		t.Skipf("testkube: %v (run scripts/deps.sh)", err)
	}
	dir := t.TempDir()
	f, err := writeFiles(dir)
	if err != nil {
		t.Fatalf("testkube: %v", err)
	}
	c := &Cluster{CAPEM: f.caPEM, SigningKeyPEM: f.saPubPEM, adminToken: f.adminToken, dir: dir}
	c.client, err = httpClient(f.caPEM)
	if err != nil {
		t.Fatalf("testkube: %v", err)
	}
	etcdURL, err := startEtcd(t, etcdBin, dir)
	if err != nil {
		t.Fatalf("testkube: start etcd: %v", err)
	}
	if c.URL, err = c.startAPIServer(t, apiBin, f, etcdURL); err != nil {
		t.Fatalf("testkube: start kube-apiserver: %v", err)
	}
	return c
}

// binaries finds etcd (PATH, then /usr/bin) and kube-apiserver
// ($KUBE_APISERVER, the build cache, then scripts/kube-apiserver.sh).
func binaries() (etcd, apiserver string, err error) {
	etcd, err = exec.LookPath("etcd")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/etcd"); serr != nil {
			return "", "", fmt.Errorf("etcd not found (Debian package etcd-server): %w", err)
		}
		etcd = "/usr/bin/etcd"
	}
	if p := os.Getenv("KUBE_APISERVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("KUBE_APISERVER: %w", err)
		}
		return etcd, p, nil
	}
	if p := cachePath(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return etcd, p, nil
		}
	}
	p, err := build()
	if err != nil {
		return "", "", err
	}
	return etcd, p, nil
}

// cachePath is where scripts/kube-apiserver.sh caches the binary.
func cachePath() string {
	dir := os.Getenv("COFFER_CACHE")
	if dir == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			base = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(base, "coffer")
	}
	return filepath.Join(dir, "kube-apiserver-"+Version)
}

// build runs scripts/kube-apiserver.sh from the module root above the
// working directory and returns the path it prints.
func build() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("kube-apiserver not found: %w", err)
	}
	for {
		script := filepath.Join(dir, "scripts", "kube-apiserver.sh")
		if _, err := os.Stat(script); err == nil {
			var out, errOut bytes.Buffer
			cmd := exec.Command("sh", script)
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				return "", fmt.Errorf("kube-apiserver not found and %s failed: %w: %s", script, err, errOut.String())
			}
			return string(bytes.TrimSpace(out.Bytes())), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kube-apiserver not found: set KUBE_APISERVER or run scripts/kube-apiserver.sh")
		}
		dir = parent
	}
}

// process is a started child process and its log file.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// spawn starts bin with args, logging to dir/name.log, and registers its
// stop (SIGTERM, then SIGKILL after 10 s) with t.Cleanup.
func spawn(t testing.TB, dir, name, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p, nil
}

// stop ends the process by its PID.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logTail returns the last few KiB of the process's log for error messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// waitReady polls check until it succeeds, the process exits or the
// timeout passes.
func waitReady(p *process, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(readyTimeout)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = check(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%w: process exited: %v\n%s", ErrNotReady, err, p.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.stop()
	return fmt.Errorf("%w after %s: %v\n%s", ErrNotReady, readyTimeout, err, p.logTail())
}

// startEtcd starts a single-member etcd and returns its client URL.
func startEtcd(t testing.TB, bin, dir string) (string, error) {
	clientURL := "http://" + testport.Loopback(t)
	peerURL := "http://" + testport.Loopback(t)
	dataDir, err := os.MkdirTemp(dir, "etcd-")
	if err != nil {
		return "", fmt.Errorf("etcd dir: %w", err)
	}
	p, err := spawn(t, dir, "etcd", bin, "--name=testkube", "--data-dir="+dataDir,
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=testkube="+peerURL, "--unsafe-no-fsync", "--log-level=warn")
	if err != nil {
		return "", err
	}
	plain := &http.Client{}
	return clientURL, waitReady(p, func(ctx context.Context) error {
		return getOK(ctx, plain, clientURL+"/health", "")
	})
}

// startAPIServer starts kube-apiserver against etcdURL and returns its URL.
func (c *Cluster) startAPIServer(t testing.TB, bin string, f *files, etcdURL string) (string, error) {
	port := testport.Port(t)
	url := "https://127.0.0.1:" + strconv.Itoa(port)
	p, err := spawn(t, c.dir, "kube-apiserver", bin,
		"--etcd-servers="+etcdURL, "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(c.dir, "certs"),
		"--tls-cert-file="+f.certFile, "--tls-private-key-file="+f.keyFile,
		"--service-account-issuer="+Issuer,
		"--service-account-key-file="+f.saKeyFile, "--service-account-signing-key-file="+f.saKeyFile,
		"--token-auth-file="+f.tokenFile, "--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24", "--advertise-address=127.0.0.1")
	if err != nil {
		return "", err
	}
	return url, waitReady(p, func(ctx context.Context) error {
		return getOK(ctx, c.client, url+"/readyz", c.adminToken)
	})
}

// getOK GETs url and succeeds on a 200.
func getOK(ctx context.Context, client *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}
