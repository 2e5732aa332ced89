package token

import (
	"context"
	"errors"
	"testing"
)

// FuzzBatchLookup feeds arbitrary "hvb." strings to the batch decoder
// through Lookup: only the one genuine token may open; everything else,
// including every edit of it, is ErrInvalidToken, and nothing panics.
func FuzzBatchLookup(f *testing.F) {
	ts := newTestStore(f)
	_, parent := mustCreate(f, ts.Store, CreateParams{Policies: []string{"p"}})
	raw, _ := mustCreate(f, ts.Store, CreateParams{Type: TypeBatch, Parent: parent, Meta: map[string]string{"k": "v"}})
	body := raw[len(BatchPrefix):]
	for _, seed := range []string{
		body, body[:len(body)-1], body + "A", body[:12], "", "A", "====",
		body[:10] + "\n" + body[10:], body[:10] + "+/" + body[12:], "\x00\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		candidate := BatchPrefix + s
		e, err := ts.Lookup(context.Background(), candidate)
		if candidate == raw {
			if err != nil || e.Type != TypeBatch {
				t.Fatalf("genuine token refused: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Lookup(%q) = %v, %v; want ErrInvalidToken", candidate, e, err)
		}
	})
}

// BenchmarkCreateByType compares issuing service tokens (one storage
// transaction each) with batch tokens (no storage).
func BenchmarkCreateByType(b *testing.B) {
	ctx := context.Background()
	for _, typ := range []string{TypeService, TypeBatch} {
		b.Run(typ, func(b *testing.B) {
			ts := newTestStore(b)
			p := CreateParams{Type: typ, Policies: []string{"a", "b"}, Meta: map[string]string{"k": "v"}}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ts.Create(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLookupByType compares lookups of cached service tokens with
// batch tokens (decrypt and decode per lookup), orphan and with a parent.
func BenchmarkLookupByType(b *testing.B) {
	ctx := context.Background()
	ts := newTestStore(b)
	_, parent := mustCreate(b, ts.Store, CreateParams{Policies: []string{"a"}})
	params := map[string]CreateParams{
		"service":        {Policies: []string{"a", "b"}, Meta: map[string]string{"k": "v"}},
		"batch-orphan":   {Type: TypeBatch, Policies: []string{"a", "b"}, Meta: map[string]string{"k": "v"}},
		"batch-w-parent": {Type: TypeBatch, Parent: parent, Policies: []string{"a"}, Meta: map[string]string{"k": "v"}},
	}
	for _, name := range []string{"service", "batch-orphan", "batch-w-parent"} {
		b.Run(name, func(b *testing.B) {
			raws := make([]string, 64)
			for i := range raws {
				raws[i], _ = mustCreate(b, ts.Store, params[name])
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := ts.Lookup(ctx, raws[i%len(raws)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
