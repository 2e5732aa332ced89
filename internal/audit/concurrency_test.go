package audit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentEntries: entries logged from many goroutines at once form
// one valid chain that holds every entry exactly once.
func TestConcurrentEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	b := newTestBroker(t, fileSink(path, 50))
	keys, pub := testKeys("file")
	if err := b.Unlock(keys); err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := b.Log(sampleEntry(g*each + i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := VerifyBytes(VerifyOptions{PublicKey: pub}, "audit.log", data)
	if err != nil {
		t.Fatalf("concurrently written log does not verify: %v", err)
	}
	for n := range goroutines * each {
		if c := strings.Count(string(data), fmt.Sprintf(`"req-%d"`, n)); c != 1 {
			t.Fatalf("entry req-%d appears %d times; want once (summary %+v)", n, c, sum)
		}
	}
}

// flakyDest counts the writes that reach a file destination and fails
// them on demand.
type flakyDest struct {
	dest
	writes int
	fail   bool
}

func (d *flakyDest) write(p []byte) error {
	if d.fail {
		return errors.New("disk full (test)")
	}
	d.writes++
	return d.dest.write(p)
}

// flakyFileBroker is an unlocked broker with one file sink at path whose
// writes go through a flakyDest.
func flakyFileBroker(t *testing.T, path string) (*Broker, *sink, *flakyDest, ed25519.PublicKey) {
	t.Helper()
	b := newTestBroker(t, fileSink(path, 1000))
	s := b.sinks[0]
	d := &flakyDest{dest: s.dest}
	s.dest = d
	keys, pub := testKeys("file")
	if err := b.Unlock(keys); err != nil {
		t.Fatal(err)
	}
	return b, s, d, pub
}

// queueBehindLock holds s's lock while n goroutines log entries first,
// first+1, ... (every third as a request and response pair), waits until
// all n are queued, then lets them go and returns their errors.
func queueBehindLock(t *testing.T, b *Broker, s *sink, first, n int) []error {
	t.Helper()
	s.hold()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e := sampleEntry(first + i)
			if i%3 == 0 {
				errs[i] = b.log(e, sampleEntry(first+i+1_000_000))
			} else {
				errs[i] = b.Log(e)
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.queueMu.Lock()
		queued := len(s.queue)
		s.queueMu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			s.release()
			t.Fatalf("%d of %d entries queued", queued, n)
		}
	}
	s.release()
	wg.Wait()
	return errs
}

// TestGroupCommit: requests that wait for the sink's lock are written
// together, in one write, and each returns only after its entries are in
// the file; when that write fails, every request in the group gets the
// error, none of their entries are in the file, and the chain goes on from
// the last line written.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	b, s, d, pub := flakyFileBroker(t, path)
	const n = 12
	before, seq := d.writes, s.chain.seq
	for i, err := range queueBehindLock(t, b, s, 0, n) {
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if d.writes != before+1 {
		t.Fatalf("%d queued requests took %d writes; want 1", n, d.writes-before)
	}
	if want := uint64(n + n/3); s.chain.seq != seq+want {
		t.Fatalf("the chain advanced %d lines; want %d", s.chain.seq-seq, want)
	}

	d.fail, seq = true, s.chain.seq
	for i, err := range queueBehindLock(t, b, s, 100, n) {
		if err == nil {
			t.Fatalf("entry %d: logged although its write failed", 100+i)
		}
	}
	if s.chain.seq != seq {
		t.Fatalf("the chain advanced %d lines past a failed write", s.chain.seq-seq)
	}
	d.fail = false
	if err := b.Log(sampleEntry(200)); err != nil {
		t.Fatal(err)
	}
	data := closeAndRead(t, b, path)
	if _, err := VerifyBytes(VerifyOptions{PublicKey: pub}, "audit.log", data); err != nil {
		t.Fatalf("log does not verify: %v", err)
	}
	for i := range n {
		lines := 1
		if i%3 == 0 {
			lines = 2 // the response entry repeats the request's parts
		}
		for id, want := range map[int]int{i: lines, 100 + i: 0} {
			if c := strings.Count(string(data), fmt.Sprintf(`"req-%d"`, id)); c != want {
				t.Errorf("entry req-%d appears %d times; want %d", id, c, want)
			}
		}
	}
	if !strings.Contains(string(data), `"req-200"`) {
		t.Error("the entry after the failed group is missing")
	}
}

// TestGroupCommitGathersReadyRequests: requests that are ready to run when
// the first of them reaches a file sink queue their entries while it
// yields, and share its write. With one P and 16 goroutines ready at once,
// a sink that wrote each request alone would make 16 writes.
func TestGroupCommitGathersReadyRequests(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	path := filepath.Join(t.TempDir(), "audit.log")
	b, _, d, pub := flakyFileBroker(t, path)
	const n = 16
	before := d.writes
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = b.Log(sampleEntry(i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if w := d.writes - before; w > n/4 {
		t.Fatalf("%d requests ready at once took %d writes; want at most %d", n, w, n/4)
	}
	data := closeAndRead(t, b, path)
	if _, err := VerifyBytes(VerifyOptions{PublicKey: pub}, "audit.log", data); err != nil {
		t.Fatalf("log does not verify: %v", err)
	}
	for i := range n {
		if c := strings.Count(string(data), fmt.Sprintf(`"req-%d"`, i)); c != 1 {
			t.Errorf("entry req-%d appears %d times; want 1", i, c)
		}
	}
}
