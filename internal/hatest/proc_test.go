package hatest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
	"github.com/cofferdev/coffer/internal/testcluster"
)

// cofferBin is the coffer binary TestMain builds once.
var cofferBin string

func TestMain(m *testing.M) { servertest.RunWithBinary(m, &cofferBin) }

// Waits of the harness: generous, never timing assertions.
const (
	upTimeout      = 30 * time.Second
	healthyTimeout = 60 * time.Second
	stopTimeout    = 15 * time.Second
)

// proc is one coffer server process; its output goes to logPath, appended
// across restarts.
type proc struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	logPath string
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// cluster is a cluster of coffer processes on loopback.
type cluster struct {
	t         *testing.T
	layout    *testcluster.Layout
	mu        sync.Mutex
	procs     []*proc // nil entries: not running
	rootToken string
}

// newCluster lays out n nodes and writes their configurations; edit
// c.layout and call writeConfigs again before starting to change them.
func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	c := &cluster{t: t, layout: testcluster.NewLayout(t, t.TempDir(), n), procs: make([]*proc, n)}
	c.writeConfigs()
	t.Cleanup(func() {
		if t.Failed() {
			c.logTails(60)
			c.dumpGoroutines()
			c.saveLogs()
		}
		for i := range c.procs {
			c.kill(i)
		}
	})
	return c
}

func (c *cluster) writeConfigs() {
	for i := range c.layout.Nodes {
		c.layout.WriteConfig(c.t, i)
	}
}

// size is the number of nodes.
func (c *cluster) size() int { return len(c.layout.Nodes) }

// logPath is node i's log file.
func (c *cluster) logPath(i int) string { return filepath.Join(c.layout.Nodes[i].Dir, "node.log") }

// start runs node i's process; it does not wait for it to answer.
func (c *cluster) start(i int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs[i] != nil && !c.procs[i].exited() {
		c.t.Fatalf("node %d is already running", i)
	}
	logFile, err := os.OpenFile(c.logPath(i), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "==== hatest: starting node-%d at %s ====\n", i, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(cofferBin, "server", "-config", filepath.Join(c.layout.Nodes[i].Dir, "coffer.hcl"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), logPath: c.logPath(i)}
	go func() { _ = cmd.Wait(); close(p.done) }()
	c.procs[i] = p
}

// running reports whether node i's process runs.
func (c *cluster) running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i] != nil && !c.procs[i].exited()
}

// kill sends SIGKILL to node i and waits for it to exit.
func (c *cluster) kill(i int) {
	c.signal(i, syscall.SIGKILL)
}

// stop sends SIGTERM to node i and waits for a clean exit.
func (c *cluster) stop(i int) {
	c.t.Helper()
	if !c.signal(i, syscall.SIGTERM) {
		c.t.Errorf("node %d did not stop within %s of SIGTERM; killed it", i, stopTimeout)
	}
}

// signal sends sig to node i (if it runs) and waits for it to exit,
// killing it after stopTimeout; it reports whether it exited in time.
func (c *cluster) signal(i int, sig syscall.Signal) bool {
	c.mu.Lock()
	p := c.procs[i]
	c.procs[i] = nil
	c.mu.Unlock()
	if p == nil || p.exited() {
		return true
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return true
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return false
	}
}

// client returns a client for node i with the root token.
func (c *cluster) client(i int) *vaultapi.Client {
	return testcluster.NewClient(c.t, c.layout.URL(i), c.layout.TLS.CAFile, c.rootToken)
}

// clients returns root clients for every node, nil for stopped ones.
func (c *cluster) clients() []*vaultapi.Client {
	out := make([]*vaultapi.Client, c.size())
	for i := range out {
		if c.running(i) {
			out[i] = c.client(i)
		}
	}
	return out
}

// ids returns the node ids.
func (c *cluster) ids() []string {
	out := make([]string, c.size())
	for i, nd := range c.layout.Nodes {
		out[i] = nd.ID
	}
	return out
}

// waitUp waits until node i answers sys/seal-status; a process that exits
// first fails the test with its log.
func (c *cluster) waitUp(i int) {
	c.t.Helper()
	cl := c.client(i)
	deadline := time.Now().Add(upTimeout)
	for {
		_, err := cl.Sys().SealStatusWithContext(c.t.Context())
		if err == nil {
			return
		}
		c.mu.Lock()
		p := c.procs[i]
		c.mu.Unlock()
		if p == nil || p.exited() {
			logs := readFile(c.t, c.logPath(i))
			c.t.Fatalf("node-%d exited before answering:\n%s", i, testcluster.Tail(logs, 40))
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node-%d did not answer within %s: %v", i, upTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restart starts node i again and waits until it answers.
func (c *cluster) restart(i int) {
	c.t.Helper()
	c.start(i)
	c.waitUp(i)
}

// waitHealthy waits until every node runs, one is active, the others are
// unsealed standbys and all are voters; it returns the active index.
func (c *cluster) waitHealthy() int {
	c.t.Helper()
	clients := make([]*vaultapi.Client, c.size())
	for i := range clients {
		clients[i] = c.client(i)
	}
	return testcluster.WaitHealthy(c.t, clients, c.ids(), healthyTimeout)
}

// leader waits until exactly one running node is active.
func (c *cluster) leader() int {
	c.t.Helper()
	return testcluster.WaitActive(c.t, c.clients(), healthyTimeout)
}

// logTails prints the end of every node's log, leaving out the
// per-request lines. It writes to standard error, not the test's log: go
// test prints that before the failed test's own messages, so a CI log cut
// to its last lines still ends with what failed.
func (c *cluster) logTails(lines int) {
	for i := range c.layout.Nodes {
		b, _ := os.ReadFile(c.logPath(i))
		var kept []string
		for _, line := range strings.Split(string(b), "\n") {
			if !perRequest(line) {
				kept = append(kept, line)
			}
		}
		fmt.Fprintf(os.Stderr, "---- %s: last %d lines of node-%d's log (requests left out) ----\n%s\n",
			c.t.Name(), lines, i, testcluster.Tail(strings.Join(kept, "\n"), lines))
	}
}

// perRequest reports whether a log line is about one request.
func perRequest(line string) bool {
	for _, s := range []string{`msg="http: request"`, `msg="http: request forwarded to the active node"`, "TLS handshake error"} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// dumpGoroutines sends SIGQUIT to every running node, so the Go runtime
// writes all goroutines' stacks to its log before it exits.
func (c *cluster) dumpGoroutines() {
	for i := range c.procs {
		c.signal(i, syscall.SIGQUIT)
	}
}

// saveLogs copies every node's whole log to $HATEST_LOG_DIR/<test> when
// that is set (CI keeps it as an artifact).
func (c *cluster) saveLogs() {
	dir := os.Getenv("HATEST_LOG_DIR")
	if dir == "" {
		return
	}
	dst := filepath.Join(dir, strings.ReplaceAll(c.t.Name(), "/", "_"), filepath.Base(c.layout.Dir))
	if err := os.MkdirAll(dst, 0o700); err != nil {
		c.t.Logf("saving logs: %v", err)
		return
	}
	for i := range c.layout.Nodes {
		if b, err := os.ReadFile(c.logPath(i)); err == nil {
			_ = os.WriteFile(filepath.Join(dst, fmt.Sprintf("node-%d.log", i)), b, 0o600)
		}
	}
	c.t.Logf("node logs saved in %s", dst)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
