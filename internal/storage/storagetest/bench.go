package storagetest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

const (
	benchKeys      = 1000
	benchValueSize = 256
	benchTxnOps    = 8
	// benchFolders folders of benchNested keys each, plus benchFolders
	// leaves, sit under "list/": List must skip the nested keys.
	benchFolders = 100
	benchNested  = 50
)

// Bench measures Get, Put, List and Transaction on backends made by
// newBackend, one fresh backend per benchmark.
func Bench(b *testing.B, newBackend func(b testing.TB) storage.Backend) {
	b.Run("Get", func(b *testing.B) { benchGet(b, newBackend(b)) })
	b.Run("GetParallel", func(b *testing.B) { benchGetParallel(b, newBackend(b)) })
	b.Run("Put", func(b *testing.B) { benchPut(b, newBackend(b)) })
	b.Run("Transaction", func(b *testing.B) { benchTransaction(b, newBackend(b)) })
	b.Run("List", func(b *testing.B) { benchList(b, newBackend(b)) })
}

func benchKeyNames() []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench/%02d/key-%04d", i%50, i)
	}
	return keys
}

// fill writes value under every key, a batch of 100 keys per transaction.
func fill(b *testing.B, be storage.Backend, keys []string, value []byte) {
	b.Helper()
	for start := 0; start < len(keys); start += 100 {
		end := min(start+100, len(keys))
		ops := make([]storage.TxnOp, 0, end-start)
		for _, k := range keys[start:end] {
			ops = append(ops, storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: k, Value: value}})
		}
		if err := be.Transaction(b.Context(), ops); err != nil {
			b.Fatalf("filling backend: %v", err)
		}
	}
}

func benchGet(b *testing.B, be storage.Backend) {
	keys := benchKeyNames()
	fill(b, be, keys, bytes.Repeat([]byte{'v'}, benchValueSize))
	b.SetBytes(benchValueSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := be.Get(b.Context(), keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchGetParallel(b *testing.B, be storage.Backend) {
	keys := benchKeyNames()
	fill(b, be, keys, bytes.Repeat([]byte{'v'}, benchValueSize))
	b.SetBytes(benchValueSize)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := be.Get(b.Context(), keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func benchPut(b *testing.B, be storage.Backend) {
	keys := benchKeyNames()
	value := bytes.Repeat([]byte{'v'}, benchValueSize)
	b.SetBytes(benchValueSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := be.Put(b.Context(), &storage.Entry{Key: keys[i%len(keys)], Value: value}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchTransaction(b *testing.B, be storage.Backend) {
	keys := benchKeyNames()
	value := bytes.Repeat([]byte{'v'}, benchValueSize)
	ops := make([]storage.TxnOp, benchTxnOps)
	b.SetBytes(benchValueSize * benchTxnOps)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for j := range ops {
			ops[j] = storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: keys[(i+j)%len(keys)], Value: value}}
		}
		if err := be.Transaction(b.Context(), ops); err != nil {
			b.Fatal(err)
		}
		i += benchTxnOps
	}
}

func benchList(b *testing.B, be storage.Backend) {
	var keys []string
	for f := range benchFolders {
		keys = append(keys, fmt.Sprintf("list/leaf-%03d", f))
		for n := range benchNested {
			keys = append(keys, fmt.Sprintf("list/folder-%03d/sub/key-%03d", f, n))
		}
	}
	fill(b, be, keys, []byte("v"))
	b.ReportAllocs()
	for b.Loop() {
		children, err := be.List(b.Context(), "list/")
		if err != nil {
			b.Fatal(err)
		}
		if len(children) != 2*benchFolders {
			b.Fatalf("List(list/) returned %d children, want %d", len(children), 2*benchFolders)
		}
	}
}
