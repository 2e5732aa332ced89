package audit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// BrokerOptions are a Broker's dependencies.
type BrokerOptions struct {
	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Stdout is where stdout sinks write (os.Stdout if nil).
	Stdout io.Writer
}

// Keys are the secrets a Broker needs while the server is unsealed: one
// HMAC key per sink name and the checkpoint signing key.
type Keys struct {
	HMAC    map[string][]byte
	Signing ed25519.PrivateKey
}

// String keeps the keys out of logs.
func (Keys) String() string { return "[REDACTED]" }

// LogValue keeps the keys out of structured logs.
func (Keys) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Broker fans entries out to every configured sink and decides whether a
// request may proceed. It is safe for concurrent use.
type Broker struct {
	sinks  []*sink
	logger *slog.Logger
	now    func() time.Time
	// mu guards pub.
	mu     sync.RWMutex
	pub    ed25519.PublicKey
	closed atomic.Bool
	stop   chan struct{}
	done   chan struct{}
}

// NewBroker builds the sinks. Files and sockets open on first use, so a
// sink that cannot open yet fails its entries (and, if required, their
// requests) rather than the server's start.
func NewBroker(cfgs []SinkConfig, opts BrokerOptions) (*Broker, error) {
	b := &Broker{logger: opts.Logger, now: opts.Now, stop: make(chan struct{}), done: make(chan struct{})}
	if b.logger == nil {
		b.logger = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	out := opts.Stdout
	if out == nil {
		out = os.Stdout
	}
	names := map[string]bool{}
	interval := time.Duration(0)
	for _, c := range cfgs {
		if err := c.check(); err != nil {
			return nil, err
		}
		if names[c.Name] {
			return nil, fmt.Errorf("%w: two audit sinks are named %q", ErrBadConfig, c.Name)
		}
		names[c.Name] = true
		if c.CheckpointEntries < 1 {
			c.CheckpointEntries = DefaultCheckpointEntries
		}
		if c.CheckpointInterval <= 0 {
			c.CheckpointInterval = DefaultCheckpointInterval
		}
		if c.WriteTimeout <= 0 {
			c.WriteTimeout = DefaultWriteTimeout
		}
		if c.LogRaw {
			b.logger.Warn("audit: log_raw is on: this sink writes secrets in plaintext", "sink", c.Name)
		}
		b.sinks = append(b.sinks, newSink(c, newDest(c, out)))
		if interval == 0 || c.CheckpointInterval < interval {
			interval = c.CheckpointInterval
		}
	}
	go b.ticker(interval)
	return b, nil
}

func newDest(c SinkConfig, stdout io.Writer) dest {
	switch c.Type {
	case "file":
		return &fileDest{path: c.Path, mode: c.FileMode}
	case "socket":
		return &socketDest{network: c.SocketType, address: c.Address, timeout: c.WriteTimeout}
	}
	return &writerDest{w: stdout}
}

// ticker writes time-based checkpoints until Close.
func (b *Broker) ticker(interval time.Duration) {
	defer close(b.done)
	if len(b.sinks) == 0 {
		<-b.stop
		return
	}
	t := time.NewTicker(max(interval/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			now := b.now()
			for _, s := range b.sinks {
				b.report(s, s.tick(now))
			}
		}
	}
}

// Enabled reports whether any sink is configured.
func (b *Broker) Enabled() bool { return b != nil && len(b.sinks) > 0 }

// RecordsHeaders reports whether any sink writes request headers (its
// `headers` option), so callers need not collect them otherwise.
func (b *Broker) RecordsHeaders() bool {
	if b == nil {
		return false
	}
	for _, s := range b.sinks {
		if len(s.cfg.Headers) > 0 {
			return true
		}
	}
	return false
}

// SinkNames lists the sinks in config order.
func (b *Broker) SinkNames() []string {
	out := make([]string, len(b.sinks))
	for i, s := range b.sinks {
		out[i] = s.cfg.Name
	}
	return out
}

// Log writes e to every sink. It returns ErrNoSink when at least one sink is
// required and none of the required sinks accepted the entry; best-effort
// sinks never cause an error. Every sink failure is logged.
func (b *Broker) Log(e *Entry) error {
	return b.log(e, nil)
}

// log writes e, and e2 right after it if not nil, to every sink, as Log.
func (b *Broker) log(e, e2 *Entry) error {
	if !b.Enabled() {
		return nil
	}
	if b.closed.Load() {
		return ErrClosed
	}
	now := b.now()
	required, accepted := 0, 0
	for _, s := range b.sinks {
		err := s.log(now, e, e2)
		b.report(s, err)
		if s.cfg.Mode == Required {
			required++
			if err == nil {
				accepted++
			}
		}
	}
	if required > 0 && accepted == 0 {
		return ErrNoSink
	}
	return nil
}

// LogRequest is Log(NewRequestEntry(now, req, mountPoint, caller, reqErr))
// without building the entry on the heap.
func (b *Broker) LogRequest(now time.Time, req *logical.Request, mountPoint string, caller *Caller, reqErr error) error {
	if !b.Enabled() {
		return nil
	}
	var p entryParts
	p.request(now, req, mountPoint, caller, reqErr, false)
	// entryParts.link(false), inline so that p stays on the stack.
	p.e.Request = &p.req
	if p.hasAuth {
		p.e.Auth = &p.auth
	}
	return b.Log(&p.e)
}

// LogResponse is Log(NewResponseEntry(now, req, mountPoint, caller, resp,
// status, respErr)) without building the entry on the heap.
func (b *Broker) LogResponse(now time.Time, req *logical.Request, mountPoint string, caller *Caller, resp *logical.Response, status int, respErr error) error {
	if !b.Enabled() {
		return nil
	}
	var p entryParts
	p.response(now, req, mountPoint, caller, resp, status, respErr, false)
	// entryParts.link(true), inline so that p stays on the stack.
	p.e.Request, p.e.Response = &p.req, &p.resp
	if p.hasAuth {
		p.e.Auth = &p.auth
	}
	if p.hasRAuth {
		p.resp.Auth = &p.rauth
	}
	if p.hasWrap {
		p.resp.WrapInfo = &p.wrap
	}
	return b.Log(&p.e)
}

// LogExchange writes the request entry of req (taken at reqAt, when it was
// authorized) and its response entry (at respAt) as two lines in one write
// to each sink, with the errors and results of Log. It is for requests
// whose request entry may wait for the response: those that changed
// nothing before it (a read), and whose response is not sent before this
// returns, so a failed write still refuses the response. The request
// entry holds no error: a request refused at authorization is logged by
// LogRequest before anything else happens.
func (b *Broker) LogExchange(reqAt, respAt time.Time, req *logical.Request, mountPoint string, caller *Caller, resp *logical.Response, status int, respErr error) error {
	if !b.Enabled() {
		return nil
	}
	var p, q entryParts
	p.request(reqAt, req, mountPoint, caller, nil, false)
	q.response(respAt, req, mountPoint, caller, resp, status, respErr, false)
	// entryParts.link, inline so that p and q stay on the stack.
	p.e.Request = &p.req
	q.e.Request, q.e.Response = &q.req, &q.resp
	if p.hasAuth {
		p.e.Auth = &p.auth
		q.e.Auth = &q.auth
	}
	if q.hasRAuth {
		q.resp.Auth = &q.rauth
	}
	if q.hasWrap {
		q.resp.WrapInfo = &q.wrap
	}
	return b.log(&p.e, &q.e)
}

func (b *Broker) report(s *sink, err error) {
	if err != nil {
		b.logger.Error("audit: sink failed", "sink", s.cfg.Name, "mode", s.cfg.Mode.String(), "error", err)
	}
}

// Unlock installs the keys (at unseal) and writes a checkpoint to every
// sink, signing the entries written while sealed and recording the public
// key. A sink without its HMAC key is an error.
func (b *Broker) Unlock(k Keys) error {
	now := b.now()
	for _, s := range b.sinks {
		key, ok := k.HMAC[s.cfg.Name]
		if !ok || len(key) == 0 {
			return fmt.Errorf("audit: no HMAC key for sink %s", s.cfg.Name)
		}
		b.report(s, s.unlock(append([]byte(nil), key...), k.Signing, now))
	}
	b.mu.Lock()
	b.pub = k.Signing.Public().(ed25519.PublicKey)
	b.mu.Unlock()
	return nil
}

// Lock signs what was written and forgets the keys (at seal).
func (b *Broker) Lock() {
	now := b.now()
	for _, s := range b.sinks {
		b.report(s, s.lock(now))
	}
}

// PublicKey returns the checkpoint public key, nil before the first unseal.
func (b *Broker) PublicKey() ed25519.PublicKey {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.pub
}

// Hash returns input HMAC'd with sink's key, as that sink writes it.
func (b *Broker) Hash(sinkName, input string) (string, error) {
	for _, s := range b.sinks {
		if s.cfg.Name == sinkName {
			return s.hash(input)
		}
	}
	return "", ErrUnknownSink
}

// Reopen ends every file with a final checkpoint and opens its path again,
// for log rotation (SIGHUP). The chain continues in the new file.
func (b *Broker) Reopen() error {
	now := b.now()
	var errs []error
	for _, s := range b.sinks {
		if s.cfg.Type != "file" {
			continue
		}
		err := s.reopen(now)
		b.report(s, err)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close writes final checkpoints (if unsealed), closes every sink and stops
// the checkpoint timer. Log fails with ErrClosed afterwards.
func (b *Broker) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(b.stop)
	<-b.done
	now := b.now()
	var errs []error
	for _, s := range b.sinks {
		errs = append(errs, s.close(now))
	}
	return errors.Join(errs...)
}
