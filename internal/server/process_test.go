package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
	"github.com/cofferdev/coffer/internal/testport"
)

// cofferBin is the coffer binary built once for the process tests.
var cofferBin string

func TestMain(m *testing.M) { servertest.RunWithBinary(m, &cofferBin) }

// process is a coffer server running as a child process.
type process struct {
	cmd     *exec.Cmd
	logPath string
}

func startProcess(t *testing.T, configPath, logPath string) *process {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cofferBin, "server", "-config", configPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	p := &process{cmd: cmd, logPath: logPath}
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *process) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("server did not stop within 15s of SIGTERM")
	}
}

func tlsClient(t *testing.T, addr, caFile string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = "https://" + addr
	cfg.MaxRetries = 0
	if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{CACert: caFile}); err != nil {
		t.Fatal(err)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken()
	return c
}

// waitUp polls sys/seal-status until the server answers.
func waitUp(t *testing.T, c *vaultapi.Client, p *process) *vaultapi.SealStatusResponse {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.Sys().SealStatus()
		if err == nil {
			return st
		}
		if p.cmd.ProcessState != nil || time.Now().After(deadline) {
			logs, _ := os.ReadFile(p.logPath)
			t.Fatalf("server never came up: %v\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestProductionFlow(t *testing.T) {
	dir := t.TempDir()
	tlsFiles := servertest.WriteTLSFiles(t, dir)
	addr, redirect := testport.Loopback(t), testport.Loopback(t)
	dataDir := filepath.Join(dir, "data")
	configPath := filepath.Join(dir, "coffer.hcl")
	logPath := filepath.Join(dir, "server.log")
	writeFile(t, configPath, fmt.Sprintf(`
storage "bolt" { path = %q }
listener "tcp" {
  address          = %q
  tls_cert_file    = %q
  tls_key_file     = %q
  redirect_address = %q
}
api_addr  = "https://%s"
log_level = "debug"
`, dataDir, addr, tlsFiles.CertFile, tlsFiles.KeyFile, redirect, addr))

	p := startProcess(t, configPath, logPath)
	c := tlsClient(t, addr, tlsFiles.CAFile)
	if st := waitUp(t, c, p); st.Initialized || !st.Sealed {
		t.Fatalf("fresh server status = %+v", st)
	}
	res, err := c.Sys().Init(&vaultapi.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		t.Fatal(err)
	}
	unseal(t, c, res.Keys[0], res.Keys[1], res.Keys[2])
	c.SetToken(res.RootToken)

	secrets := map[string]string{"stripe_api_key": "sk_live_QvT9ZzPlaintextCanary", "db_password": "correct-horse-battery-canary"}
	if err := c.Sys().Mount("payments-kv", &vaultapi.MountInput{Type: "kv-v2"}); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{}
	for k, v := range secrets {
		data[k] = v
	}
	if _, err := c.KVv2("payments-kv").Put(t.Context(), "merchant-zebra/credentials", data); err != nil {
		t.Fatal(err)
	}
	if err := c.Sys().PutPolicy("payments-reader", `path "payments-kv/data/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}

	checkRedirect(t, redirect, addr)
	checkCertReload(t, p, tlsFiles, addr)

	p.stop(t)
	checkNoPlaintext(t, filepath.Join(dataDir, "coffer.db"), append([]string{
		"merchant-zebra", "credentials", "stripe_api_key", "db_password", "payments-reader", res.RootToken,
	}, secretValues(secrets)...))

	// Restart: the server comes back sealed and opens with three other shares.
	p = startProcess(t, configPath, logPath)
	if st := waitUp(t, c, p); !st.Initialized || !st.Sealed {
		t.Fatalf("restarted server status = %+v; want initialized and sealed", st)
	}
	unseal(t, c, res.KeysB64[4], res.Keys[3], res.Keys[2])
	s, err := c.KVv2("payments-kv").Get(t.Context(), "merchant-zebra/credentials")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range secrets {
		if s.Data[k] != v {
			t.Errorf("after restart %s = %v; want the written value", k, s.Data[k])
		}
	}
	if pol, err := c.Sys().GetPolicy("payments-reader"); err != nil || pol == "" {
		t.Errorf("policy after restart = %q, %v", pol, err)
	}
	p.stop(t)

	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logs, []byte("level=DEBUG")) {
		t.Fatal("server log has no debug lines; the leak check would be vacuous")
	}
	for _, s := range append(append(secretValues(secrets), res.RootToken), append(res.Keys, res.KeysB64...)...) {
		if bytes.Contains(logs, []byte(s)) {
			t.Errorf("server log contains a secret (%d bytes)", len(s))
		}
	}
}

func unseal(t *testing.T, c *vaultapi.Client, keys ...string) {
	t.Helper()
	var st *vaultapi.SealStatusResponse
	var err error
	for _, k := range keys {
		if st, err = c.Sys().Unseal(k); err != nil {
			t.Fatal(err)
		}
	}
	if st.Sealed {
		t.Fatalf("still sealed after %d shares: %+v", len(keys), st)
	}
}

func secretValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkNoPlaintext fails if the file contains any needle.
func checkNoPlaintext(t *testing.T, path string, needles []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		t.Fatal("storage file is empty")
	}
	for _, n := range needles {
		if bytes.Contains(b, []byte(n)) {
			t.Errorf("storage file contains %q in plaintext", n)
		}
	}
}

func checkRedirect(t *testing.T, redirect, addr string) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get("http://" + redirect + "/v1/sys/health?standbyok=true")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "https://" + addr + "/v1/sys/health?standbyok=true"
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("redirect listener = %d %q; want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// checkCertReload replaces the certificate, sends SIGHUP and waits until new
// handshakes present the new certificate, while the server keeps serving.
func checkCertReload(t *testing.T, p *process, f *servertest.TLSFiles, addr string) {
	t.Helper()
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(f.CAFile)
	pool.AppendCertsFromPEM(ca)
	serial := func() int64 {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != f.Serial.Int64() {
		t.Fatalf("initial serial = %d; want %d", got, f.Serial.Int64())
	}
	f.Reissue(t, 77)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for serial() != 77 {
		if ctx.Err() != nil {
			t.Fatal("certificate not reloaded within 10s of SIGHUP")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// TLS 1.1 is refused.
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Fatal("server accepted TLS 1.1")
	}
	if !strings.Contains(readFile(t, p.logPath), "certificate reloaded") {
		t.Error("reload not logged")
	}
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
