package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

const (
	concWriters = 4
	concReaders = 4
	concRounds  = 40
)

// genKey is writer w's marker key for generation g: each writer keeps
// exactly one marker under "inv/", moving it forward one transaction at a time.
func genKey(w, g int) string {
	return fmt.Sprintf("inv/w%d-%05d", w, g)
}

// testConcurrentTransactions runs writers whose every transaction keeps an
// invariant a partial transaction would break, while readers check it.
//
// Writer w's transaction for generation g deletes its marker for g-1, puts
// the marker for g, and writes g to "pair/w/a" and "pair/w/b". A reader must
// always list exactly one marker per writer, and having read a, must then
// read b >= a.
func testConcurrentTransactions(t *testing.T, b storage.Backend) {
	for w := range concWriters {
		mustTxn(t, b, put(genKey(w, 0), ""), put(pairKey(w, "a"), "0"), put(pairKey(w, "b"), "0"))
	}
	done := make(chan struct{})
	var writers, readers sync.WaitGroup
	for w := range concWriters {
		writers.Go(func() { concWriter(t, b, w) })
	}
	for range concReaders {
		readers.Go(func() {
			for i := 0; ; i++ {
				if !concRead(t, b, i%concWriters) {
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	var want []string
	for w := range concWriters {
		want = append(want, genKey(w, concRounds)[len("inv/"):])
	}
	if got := mustList(t, b, "inv/"); !slices.Equal(got, want) {
		t.Fatalf("final markers = %q, want %q", got, want)
	}
}

func pairKey(w int, side string) string {
	return fmt.Sprintf("pair/w%d/%s", w, side)
}

func concWriter(t *testing.T, b storage.Backend, w int) {
	for g := 1; g <= concRounds; g++ {
		v := strconv.Itoa(g)
		err := b.Transaction(t.Context(), []storage.TxnOp{
			del(genKey(w, g-1)), put(genKey(w, g), ""),
			put(pairKey(w, "a"), v), put(pairKey(w, "b"), v),
		})
		if err != nil {
			t.Errorf("writer %d generation %d: %v", w, g, err)
			return
		}
	}
}

// concRead checks the invariants once, reading writer w's pair, and reports
// whether to go on.
func concRead(t *testing.T, b storage.Backend, w int) bool {
	markers, err := b.List(t.Context(), "inv/")
	if err != nil {
		t.Errorf("List(inv/): %v", err)
		return false
	}
	if len(markers) != concWriters {
		t.Errorf("reader saw a partial transaction: List(inv/) = %q", markers)
		return false
	}
	for i, m := range markers {
		if !strings.HasPrefix(m, fmt.Sprintf("w%d-", i)) {
			t.Errorf("reader saw a partial transaction: List(inv/) = %q", markers)
			return false
		}
	}
	a, errA := readInt(t, b, pairKey(w, "a"))
	bv, errB := readInt(t, b, pairKey(w, "b"))
	if err := errors.Join(errA, errB); err != nil {
		t.Errorf("reading pair: %v", err)
		return false
	}
	if bv < a {
		t.Errorf("reader saw a partial transaction: pair a=%d then b=%d", a, bv)
		return false
	}
	return true
}

func readInt(t *testing.T, b storage.Backend, key string) (int, error) {
	e, err := b.Get(t.Context(), key)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(e.Value))
}

// testConcurrentPutGet has goroutines write and read their own keys while
// another lists, then checks that every write landed.
func testConcurrentPutGet(t *testing.T, b storage.Backend) {
	const goroutines, keys = 4, 30
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for k := range keys {
				key := fmt.Sprintf("cc/g%d/k%02d", g, k)
				if err := b.Put(t.Context(), &storage.Entry{Key: key, Value: []byte(key)}); err != nil {
					t.Errorf("Put(%q): %v", key, err)
					return
				}
				e, err := b.Get(t.Context(), key)
				if err != nil || string(e.Value) != key {
					t.Errorf("Get(%q) right after Put = %v, %v", key, e, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range keys {
			got, err := b.List(t.Context(), "cc/")
			if err != nil || !slices.IsSorted(got) || len(got) > goroutines {
				t.Errorf("concurrent List(cc/) = %q, %v", got, err)
				return
			}
		}
	})
	wg.Wait()
	for g := range goroutines {
		if n := len(mustList(t, b, fmt.Sprintf("cc/g%d/", g))); n != keys {
			t.Errorf("goroutine %d: %d keys stored, want %d", g, n, keys)
		}
	}
}
