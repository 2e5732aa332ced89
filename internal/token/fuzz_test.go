package token

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzLookup feeds arbitrary strings to Lookup and LookupAccessor: they must
// never panic and never match a token.
func FuzzLookup(f *testing.F) {
	ts := newTestStore(f)
	raw, e := mustCreate(f, ts.Store, CreateParams{Policies: []string{"dev"}})
	for _, seed := range []string{
		"", "hvs.", raw[:len(raw)-1], raw + "A", strings.ToUpper(raw), "hvb." + raw[4:], raw[4:],
		"hvs." + strings.Repeat("0", 24), "hvs." + strings.Repeat("z", 129), "hvs.../../id",
		e.Accessor + "x", "id/" + e.Hash, e.Hash, "s.abcdefghijklmnopqrstuvwx", "hvs.\x00\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctx := context.Background()
		if s == raw || s == e.Accessor {
			return
		}
		if got, err := ts.Lookup(ctx, s); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Lookup(%q) = %v, %v; want ErrInvalidToken", s, got, err)
		}
		if got, err := ts.LookupAccessor(ctx, s); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("LookupAccessor(%q) = %v, %v; want ErrInvalidToken", s, got, err)
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	ts := newTestStore(b)
	raws := make([]string, 64)
	for i := range raws {
		raws[i], _ = mustCreate(b, ts.Store, CreateParams{Policies: []string{"a", "b"}, Meta: map[string]string{"k": "v"}})
	}
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := ts.Lookup(ctx, raws[i%len(raws)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("malformed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ts.Lookup(ctx, "not-a-token"); err == nil {
				b.Fatal("malformed token accepted")
			}
		}
	})
}
