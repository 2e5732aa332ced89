package audit

import (
	"path/filepath"
	"testing"
)

// BenchmarkBrokerLog is the cost of one entry through a file sink:
// redaction, encoding, chaining and the write (no fsync), with a checkpoint
// every 100 entries.
func BenchmarkBrokerLog(b *testing.B) {
	br := newTestBroker(b, fileSink(filepath.Join(b.TempDir(), "a.log"), 100))
	keys, _ := testKeys("file")
	if err := br.Unlock(keys); err != nil {
		b.Fatal(err)
	}
	e := sampleEntry(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Log(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
