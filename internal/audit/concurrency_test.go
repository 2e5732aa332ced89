package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
