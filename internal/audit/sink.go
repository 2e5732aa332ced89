package audit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// dest is where one sink's lines go: a file, a socket or stdout. A sink
// calls it with its lock held, so implementations need no locking.
type dest interface {
	// open (re)opens the destination. last is the last complete line
	// already there (a file continuing its chain) or nil; fresh reports an
	// empty destination, which gets a header line first.
	open() (last []byte, fresh bool, err error)
	// write writes whole lines including their newlines, all or nothing.
	write(p []byte) error
	close() error
}

// errBusy is returned when a sink stayed locked past its write timeout.
var errBusy = errors.New("audit: sink busy past its write timeout")

// sink is one configured sink: its destination, chain and keys. Its lock
// (acquire/hold/release) guards everything but stats and hasher: mu for
// files and stdout (a mutex spins before it parks, which short writes
// favour), sem for sockets (a one-slot channel, so waiting can time out).
type sink struct {
	cfg  SinkConfig
	dest dest
	mu   sync.Mutex
	sem  chan struct{}

	opened  bool
	retryAt time.Time // no reconnect before this, after a failure
	lastErr error
	chain   chain
	signing ed25519.PrivateKey

	// keyMu guards hasher, so entries are redacted and encoded in parallel
	// outside the sink's lock. Writers of the key hold that lock too.
	keyMu  sync.RWMutex
	hasher hasher

	stats sinkStats
	// pendings pools requests' entry buffers (*pending).
	pendings sync.Pool
	// queueMu guards queue, the requests waiting for the next group write
	// (file and stdout sinks). spare and out, the next queue's backing
	// array and the group's output buffer, are kept for reuse under the
	// sink's lock.
	queueMu sync.Mutex
	queue   []*pending
	spare   []*pending
	out     []byte
}

func newSink(cfg SinkConfig, d dest) *sink {
	s := &sink{cfg: cfg, dest: d, hasher: hasher{raw: cfg.LogRaw, hashAccessor: cfg.HMACAccessor, headers: cfg.Headers}}
	if cfg.Type == "socket" {
		s.sem = make(chan struct{}, 1)
	}
	return s
}

// acquire takes the sink's lock for an entry; socket sinks give up after
// their timeout.
func (s *sink) acquire() bool {
	if s.sem == nil {
		s.mu.Lock()
		return true
	}
	t := time.NewTimer(s.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// hold takes the sink's lock without a timeout (key changes, rotation).
func (s *sink) hold() {
	if s.sem == nil {
		s.mu.Lock()
		return
	}
	s.sem <- struct{}{}
}

// tryHold takes the lock only if it is free.
func (s *sink) tryHold() bool {
	if s.sem == nil {
		return s.mu.TryLock()
	}
	select {
	case s.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *sink) release() {
	if s.sem == nil {
		s.mu.Unlock()
		return
	}
	<-s.sem
}

// maxPooledBuffer bounds the entry buffers a sink keeps for reuse, and the
// batch buffer it keeps between writes.
const maxPooledBuffer = 64 << 10

// pending is one request's encoded entries waiting for the sink's lock: buf
// holds one entry, or two from split (0: one), each after linePrefixRoom
// bytes of room. The writer that takes it sets written and err.
type pending struct {
	buf     []byte
	split   int
	written bool
	err     error
}

// log redacts e with this sink's key and appends it to the chain; with e2
// (not nil), the response entry of e's request, whose auth and request
// parts are e's, it appends e2 right after it. Entries are encoded outside
// the sink's lock, into a pooled buffer that keeps room for each line's
// chain prefix, so lines are built and hashed in place.
//
// File and stdout sinks commit in groups: the entries queue, the request
// yields once, and whoever holds the lock next writes everything queued in
// one write, so requests that run meanwhile, or wait for a write in
// progress, share the next write instead of making one each. Every request still returns only after its own entries were
// written, or with the error that kept them out.
func (s *sink) log(now time.Time, e, e2 *Entry) error {
	p, _ := s.pendings.Get().(*pending)
	if p == nil {
		p = new(pending)
	}
	defer s.putPending(p)
	s.keyMu.RLock()
	buf := appendHead(append(p.buf[:0], make([]byte, linePrefixRoom)...), e)
	parts := len(buf)
	buf = s.hasher.appendParts(buf, e)
	shared := buf[parts:]
	buf = s.hasher.appendTail(buf, e)
	if e2 != nil {
		// The shared parts are copied, not encoded (and hashed) again.
		p.split = len(buf)
		buf = appendHead(append(buf, make([]byte, linePrefixRoom)...), e2)
		buf = s.hasher.appendTail(append(buf, shared...), e2)
	}
	s.keyMu.RUnlock()
	p.buf = buf
	if s.sem != nil {
		return s.logAlone(now, p)
	}
	s.queueMu.Lock()
	s.queue = append(s.queue, p)
	s.queueMu.Unlock()
	// Let the goroutines that are ready to run go first. On a server with
	// few cores a request rarely finds a write in progress, so without
	// this each would write alone. With it, the requests already under
	// way queue their entries too, and the first of them to take the lock
	// writes them all (about 4 reads per write at 16 concurrent reads on
	// 2 cores; see BENCHMARKS.md). With nothing else ready it returns at
	// once.
	runtime.Gosched()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !p.written {
		s.writeQueued(now)
	}
	return p.err
}

// logAlone writes p's entries by themselves, for sinks whose lock can time
// out (sockets).
func (s *sink) logAlone(now time.Time, p *pending) error {
	if !s.acquire() {
		s.stats.failed(errBusy, now)
		return errBusy
	}
	defer s.release()
	s.writeGroup(now, []*pending{p})
	return p.err
}

// writeQueued takes every queued request and writes them as one group. The
// lock is held.
func (s *sink) writeQueued(now time.Time) {
	s.queueMu.Lock()
	group := s.queue
	s.queue = s.spare[:0]
	s.queueMu.Unlock()
	s.writeGroup(now, group)
	clear(group)
	s.spare = group
}

// writeGroup writes the entries of every request in group, in order, in
// one write, and sets each request's written and err. The chain advances
// past them only if the write succeeds; otherwise every request gets the
// error. A checkpoint follows when enough lines are unsigned. The lock is
// held.
func (s *sink) writeGroup(now time.Time, group []*pending) {
	err := s.ensureOpen(now)
	if err == nil {
		next := s.chain
		out := s.out[:0]
		for _, p := range group {
			out = next.appendLines(out, p, now)
		}
		if err = s.write(out, now); err == nil {
			s.stats.wrote(now, next.seq-s.chain.seq)
			s.chain = next
		}
		if cap(out) <= maxPooledBuffer {
			s.out = out
		}
	}
	for _, p := range group {
		p.written, p.err = true, err
	}
	if err == nil && s.signing != nil && s.chain.unsigned >= s.cfg.CheckpointEntries {
		s.checkpoint(now, false)
	}
}

func (s *sink) putPending(p *pending) {
	if cap(p.buf) > maxPooledBuffer {
		p.buf = nil
	}
	p.split, p.written, p.err = 0, false, nil
	s.pendings.Put(p)
}

// ensureOpen opens the destination if needed; a fresh one gets a header.
func (s *sink) ensureOpen(now time.Time) error {
	if s.opened {
		return nil
	}
	if now.Before(s.retryAt) {
		return fmt.Errorf("audit: sink %s: waiting to retry after: %w", s.cfg.Name, s.lastErr)
	}
	last, fresh, err := s.dest.open()
	if err == nil && last != nil {
		err = s.chain.resume(last)
	}
	if err != nil {
		return s.failed(err, now)
	}
	s.opened = true
	if fresh {
		var pub ed25519.PublicKey
		if s.signing != nil {
			pub = s.signing.Public().(ed25519.PublicKey)
		}
		return s.writeLine(s.chain.line(headerBody(now, s.cfg.Name, pub)), false, now)
	}
	return nil
}

// writeLine writes a line and advances the chain; on failure the
// destination is closed so the next entry reopens it.
func (s *sink) writeLine(line []byte, checkpoint bool, now time.Time) error {
	if err := s.write(append(line, '\n'), now); err != nil {
		return err
	}
	s.chain.commit(line, checkpoint, now)
	return nil
}

// write writes whole lines; on failure the destination is closed so the
// next entry reopens it.
func (s *sink) write(p []byte, now time.Time) error {
	if err := s.dest.write(p); err != nil {
		_ = s.dest.close()
		s.opened = false
		return s.failed(err, now)
	}
	return nil
}

func (s *sink) failed(err error, now time.Time) error {
	err = fmt.Errorf("audit: sink %s: %w", s.cfg.Name, err)
	s.lastErr = err
	if s.cfg.Type == "socket" {
		s.retryAt = now.Add(s.cfg.WriteTimeout)
	}
	s.stats.failed(err, now)
	return err
}

// checkpoint writes a signed checkpoint if the signing key is loaded.
func (s *sink) checkpoint(now time.Time, final bool) error {
	if s.signing == nil {
		return nil
	}
	if err := s.ensureOpen(now); err != nil {
		return err
	}
	return s.writeLine(s.chain.checkpointLine(now, s.signing, final), true, now)
}

// unlock installs the keys and signs what was written while sealed; the
// checkpoint also records the public key.
func (s *sink) unlock(hmacKey []byte, signing ed25519.PrivateKey, now time.Time) error {
	s.hold()
	defer s.release()
	s.setKeys(hmacKey, signing)
	return s.checkpoint(now, false)
}

// lock signs the entries so far and forgets the keys (seal).
func (s *sink) lock(now time.Time) error {
	s.hold()
	defer s.release()
	var err error
	if s.chain.unsigned > 0 {
		err = s.checkpoint(now, false)
	}
	s.setKeys(nil, nil)
	return err
}

// setKeys installs (or, with nils, wipes) the keys; the sink lock is held.
func (s *sink) setKeys(hmacKey []byte, signing ed25519.PrivateKey) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	s.hasher.setKey(hmacKey)
	s.signing = signing
}

// tick writes a checkpoint when the oldest unsigned line is old enough. It
// skips a busy sink: the next tick comes soon.
func (s *sink) tick(now time.Time) error {
	if !s.tryHold() {
		return nil
	}
	defer s.release()
	if s.signing == nil || s.chain.unsigned == 0 || now.Sub(s.chain.firstUnsigned) < s.cfg.CheckpointInterval {
		return nil
	}
	return s.checkpoint(now, false)
}

// reopen ends the current file with a final checkpoint and opens the path
// again (log rotation); the chain continues into the new file.
func (s *sink) reopen(now time.Time) error {
	s.hold()
	defer s.release()
	return s.finish(now, true)
}

// finish writes the final checkpoint and closes; with again it reopens.
func (s *sink) finish(now time.Time, again bool) error {
	var errs []error
	if s.opened && s.signing != nil {
		errs = append(errs, s.checkpoint(now, true))
	}
	if s.opened {
		errs = append(errs, s.dest.close())
		s.opened = false
	}
	if again {
		s.retryAt = time.Time{}
		errs = append(errs, s.ensureOpen(now))
	}
	return errors.Join(errs...)
}

func (s *sink) close(now time.Time) error {
	s.hold()
	defer s.release()
	err := s.finish(now, false)
	s.setKeys(nil, nil)
	return err
}

// hash is sys/audit-hash: input hashed exactly as this sink writes it.
func (s *sink) hash(input string) (string, error) {
	s.keyMu.RLock()
	defer s.keyMu.RUnlock()
	if s.hasher.key == nil {
		return "", ErrLocked
	}
	return s.hasher.mac(input), nil
}

// sinkStats are a sink's counters for sys/audit.
type sinkStats struct {
	mu        sync.Mutex
	entries   uint64
	failures  uint64
	lastErr   string
	lastErrAt time.Time
	lastOK    time.Time
}

func (st *sinkStats) wrote(now time.Time, entries uint64) {
	st.mu.Lock()
	st.entries += entries
	st.lastOK = now
	st.mu.Unlock()
}

func (st *sinkStats) failed(err error, now time.Time) {
	st.mu.Lock()
	st.failures++
	st.lastErr, st.lastErrAt = err.Error(), now
	st.mu.Unlock()
}
