package audit

import (
	"path/filepath"
	"testing"
)

// BenchmarkBrokerLog is the cost of one entry through a file sink:
// redaction, encoding, chaining and the write (no fsync), with a checkpoint
// every 100 entries. lines/write is how many lines each write(2) carried
// (group commit; checkpoints count as lines).
func BenchmarkBrokerLog(b *testing.B) {
	br := newTestBroker(b, fileSink(filepath.Join(b.TempDir(), "a.log"), 100))
	d := &flakyDest{dest: br.sinks[0].dest}
	br.sinks[0].dest = d
	keys, _ := testKeys("file")
	if err := br.Unlock(keys); err != nil {
		b.Fatal(err)
	}
	e := sampleEntry(1)
	writes, seq := d.writes, br.sinks[0].chain.seq
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Log(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	s := br.sinks[0]
	s.hold()
	b.ReportMetric(float64(s.chain.seq-seq)/float64(d.writes-writes), "lines/write")
	s.release()
}

// BenchmarkFileDestWrite appends 1 300-byte lines (a kv-read's pair of
// entries) to a file, with the sink's writeback rounds and without them
// (chunk too large to start one). Its point shows after gigabytes, not
// seconds: run it with -benchtime=2000000x (2.6 GB per case; see
// BENCHMARKS.md, "Audit writes and the page cache").
func BenchmarkFileDestWrite(b *testing.B) {
	line := append(make([]byte, 1299), '\n')
	for _, c := range []struct {
		name  string
		chunk int64
	}{{"writeback", writebackChunk}, {"kernel-only", 1 << 62}} {
		b.Run(c.name, func(b *testing.B) {
			d := &fileDest{path: filepath.Join(b.TempDir(), "a.log"), mode: 0o600}
			if _, _, err := d.open(); err != nil {
				b.Fatal(err)
			}
			defer d.close()
			d.wb.chunk = c.chunk
			b.SetBytes(int64(len(line)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.write(line); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			d.wb.wait()
		})
	}
}
