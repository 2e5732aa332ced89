package bench

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"
)

// A process ceiling is the ceiling's bare handler run in a child process,
// as the measured server runs in a process of its own. The in-process
// ceiling shares one runtime with the client: its handler and the client
// hand work to each other without waking a second process, and one garbage
// collector serves both. A server pays for the process boundary whatever
// it does, so a workload's ratio to the process ceiling is what the
// server's own work costs, and the ratio of the two ceilings is what the
// boundary costs on this machine.

// processStartTimeout bounds how long a ceiling child may take to answer.
const processStartTimeout = 10 * time.Second

// ceilingSpec is what the parent sends a ceiling child: one JSON line.
type ceilingSpec struct {
	Body []byte `json:"body"`
	TLS  bool   `json:"tls"`
}

// ceilingAddr is what the child answers: one JSON line.
type ceilingAddr struct {
	Base string `json:"base"`
	// CACert is the PEM certificate to trust when Base is https.
	CACert string `json:"ca_cert,omitempty"`
}

// ServeCeiling is a ceiling child's side: it reads a ceilingSpec from in,
// starts a Ceiling for it, writes its address to out and serves until in
// ends, which happens when the parent closes it or exits.
func ServeCeiling(in io.Reader, out io.Writer) error {
	br := bufio.NewReader(in)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("ceiling: reading what to serve: %w", err)
	}
	var spec ceilingSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("ceiling: what to serve is not a JSON ceiling spec: %w", err)
	}
	c, err := StartCeiling(spec.Body, spec.TLS)
	if err != nil {
		return err
	}
	defer c.Close()
	addr := ceilingAddr{Base: c.base}
	if c.cert != nil {
		addr.CACert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}))
	}
	if err := json.NewEncoder(out).Encode(addr); err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	_, _ = io.Copy(io.Discard, br)
	return nil
}

// ProcessCeiling is a Ceiling served by a child process.
type ProcessCeiling struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer
	base   string
	tls    *tls.Config
	done   chan error
}

// StartProcessCeiling starts command, which must run ServeCeiling on its
// standard input and output (such as `coffer bench ceiling-serve`), and has
// it serve body, over TLS with a fresh certificate when useTLS.
func StartProcessCeiling(command []string, body []byte, useTLS bool) (*ProcessCeiling, error) {
	if len(command) == 0 {
		return nil, fmt.Errorf("%w: no command for the process ceiling", ErrInvalidParams)
	}
	p := &ProcessCeiling{cmd: exec.Command(command[0], command[1:]...), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("process ceiling: %w", err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("process ceiling: %w", err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("process ceiling: start %s: %w", command[0], err)
	}
	p.stdin = stdin
	answer := make(chan []byte, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadBytes('\n')
		answer <- line
		_, _ = io.Copy(io.Discard, stdout)
		p.done <- p.cmd.Wait()
	}()
	if err := json.NewEncoder(stdin).Encode(ceilingSpec{Body: body, TLS: useTLS}); err != nil {
		// A child that exits before reading its input breaks the pipe; what
		// it said on stderr is the reason, and it is complete once it exits.
		cerr := p.Close()
		return nil, errors.Join(fmt.Errorf("process ceiling: %s did not take its input (%w): %q", command[0], err, p.stderrText()), cerr)
	}
	var line []byte
	select {
	case line = <-answer:
	case <-time.After(processStartTimeout):
		return nil, errors.Join(fmt.Errorf("process ceiling: no answer from %s within %s", command[0], processStartTimeout), p.Close())
	}
	var addr ceilingAddr
	if err := json.Unmarshal(line, &addr); err != nil || addr.Base == "" {
		cerr := p.Close() // the child has exited: its stderr is complete
		return nil, errors.Join(fmt.Errorf("process ceiling: %s did not say where it serves: %q", command[0], p.stderrText()), cerr)
	}
	p.base = addr.Base
	if useTLS {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(addr.CACert)) {
			return nil, errors.Join(errors.New("process ceiling: the child's certificate does not parse"), p.Close())
		}
		p.tls = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	return p, nil
}

// Target returns a client of the process ceiling built like NewTarget's.
func (p *ProcessCeiling) Target(maxConns int) *Target {
	return newTarget(p.base, "", p.tls, maxConns)
}

// Close ends the child: closing its input stops it; one that does not
// exit within processStartTimeout is killed.
func (p *ProcessCeiling) Close() error {
	_ = p.stdin.Close()
	select {
	case <-p.done:
		return nil
	case <-time.After(processStartTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("process ceiling: the child did not stop when asked; killed it")
	}
}

// stderrText is the start of what the child wrote to stderr; only once it
// has exited.
func (p *ProcessCeiling) stderrText() string {
	const limit = 512
	s := p.stderr.String()
	if len(s) > limit {
		s = s[:limit]
	}
	return s
}
