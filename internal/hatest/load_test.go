package hatest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// ledger records what a write load saw: the writes acknowledged, and the
// writes that failed for good (a non-retryable error or a spent budget).
type ledger struct {
	mu     sync.Mutex
	acked  map[string]string
	failed []error
	done   chan struct{}
}

// snapshot returns a copy of the acknowledged writes and the failures.
func (l *ledger) snapshot() (map[string]string, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	acked := make(map[string]string, len(l.acked))
	for k, v := range l.acked {
		acked[k] = v
	}
	return acked, append([]error(nil), l.failed...)
}

// count is the number of acknowledged writes so far.
func (l *ledger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// writeLoad runs writers goroutines putting distinct keys under prefix/
// through r until ctx ends; the ledger's done closes when all stopped.
// Writes cut short by ctx's end are not counted either way.
func writeLoad(ctx context.Context, r *rrClient, writers int, prefix string) *ledger {
	l := &ledger{acked: map[string]string{}, done: make(chan struct{})}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				key := fmt.Sprintf("%s/w%d-%d", prefix, w, n)
				val := fmt.Sprintf("value-%d-%d", w, n)
				err := r.do(ctx, func(ctx context.Context, c *vaultapi.Client) error { return put(ctx, c, key, val) })
				l.mu.Lock()
				switch {
				case err == nil:
					l.acked[key] = val
				case ctx.Err() == nil:
					l.failed = append(l.failed, fmt.Errorf("%s: %w", key, err))
				}
				l.mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(l.done) }()
	return l
}

// waitCount waits until the ledger holds at least n acknowledged writes.
func (l *ledger) waitCount(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(healthyTimeout)
	for l.count() < n {
		if time.Now().After(deadline) {
			_, failed := l.snapshot()
			t.Fatalf("only %d of %d writes acknowledged within %s (%d failed, first: %v)",
				l.count(), n, healthyTimeout, len(failed), firstErr(failed))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// checkAcked reads every acknowledged write on every node, each with a
// consistent read of that node, and reports any that is missing or wrong.
func checkAcked(t *testing.T, c *cluster, nodes []int, acked map[string]string) {
	t.Helper()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged; the check would be vacuous")
	}
	for _, i := range nodes {
		cl := c.client(i)
		keys := make(chan string)
		var mu sync.Mutex
		var bad []string
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range keys {
					got, err := get(t.Context(), cl, k)
					if err != nil || got != acked[k] {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("%s = %q, %v; want %q", k, got, err, acked[k]))
						mu.Unlock()
					}
				}
			}()
		}
		for k := range acked {
			keys <- k
		}
		close(keys)
		wg.Wait()
		if len(bad) > 0 {
			t.Errorf("node-%d lost or changed %d of %d acknowledged writes; first: %s", i, len(bad), len(acked), bad[0])
		}
	}
}

// allNodes is 0..n-1.
func allNodes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
