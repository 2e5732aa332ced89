package barrier

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

// newStandby unseals a second barrier over the physical storage of an
// unsealed one, as a standby node shares the active node's (replicated)
// storage.
func newStandby(t testing.TB, mem *memBackend, root []byte) *Barrier {
	t.Helper()
	b := New(mem, Options{Now: fixedNow})
	if err := b.Unseal(context.Background(), root); err != nil {
		t.Fatalf("Unseal standby: %v", err)
	}
	return b
}

// changedKeys returns the physical keys whose value differs between two
// snapshots, added and removed ones included, sorted.
func changedKeys(before, after map[string][]byte) []string {
	var out []string
	for k, v := range after {
		if old, ok := before[k]; !ok || !bytes.Equal(old, v) {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// applyInvalidations does what the core does on a standby after the raft
// backend applied a log entry: decode each physical key, reload the keyring
// when it changed, invalidate every logical key.
func applyInvalidations(t *testing.T, b *Barrier, physical []string) {
	t.Helper()
	for _, pk := range physical {
		key, err := b.DecodeKey(pk)
		switch {
		case errors.Is(err, ErrKeyringKey):
			if err := b.ReloadKeyring(context.Background()); err != nil {
				t.Fatalf("ReloadKeyring: %v", err)
			}
		case err != nil:
			t.Fatalf("DecodeKey(%q): %v", pk, err)
		default:
			b.Invalidate(key)
		}
	}
}

// TestInvalidateStandbyCache writes through an active barrier and reads
// through a standby one over the same physical storage: the standby serves
// its cached value until it invalidates the keys the write touched.
func TestInvalidateStandbyCache(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		change  func(t *testing.T, active *Barrier)
		want    string
		wantErr error
	}{
		{"put", func(t *testing.T, a *Barrier) { mustPut(t, a, "mount/x/k", "v2") }, "v2", nil},
		{"delete", func(t *testing.T, a *Barrier) {
			if err := a.Delete(ctx, "mount/x/k"); err != nil {
				t.Fatal(err)
			}
		}, "", storage.ErrNotFound},
		{"transaction", func(t *testing.T, a *Barrier) {
			ops := []storage.TxnOp{
				{Kind: storage.OpPut, Entry: storage.Entry{Key: "mount/x/k", Value: []byte("v3")}},
				{Kind: storage.OpPut, Entry: storage.Entry{Key: "mount/other", Value: []byte("o")}},
			}
			if err := a.Transaction(ctx, ops); err != nil {
				t.Fatal(err)
			}
		}, "v3", nil},
		{"rotate then put", func(t *testing.T, a *Barrier) {
			if _, err := a.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			mustPut(t, a, "mount/x/k", "v4 under term 2")
		}, "v4 under term 2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			active, mem, root := newUnsealed(t)
			mustPut(t, active, "mount/x/k", "v1")
			standby := newStandby(t, mem, root)
			if got := mustGet(t, standby, "mount/x/k"); got != "v1" {
				t.Fatalf("standby Get = %q, want v1", got)
			}
			before := mem.snapshot()
			tt.change(t, active)
			touched := changedKeys(before, mem.snapshot())
			if got := mustGet(t, standby, "mount/x/k"); got != "v1" {
				t.Fatalf("standby Get before Invalidate = %q; want the stale cached v1", got)
			}
			applyInvalidations(t, standby, touched)
			e, err := standby.Get(ctx, "mount/x/k")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("standby Get after Invalidate: error %v, want %v", err, tt.wantErr)
			}
			if err == nil && string(e.Value) != tt.want {
				t.Errorf("standby Get after Invalidate = %q, want %q", e.Value, tt.want)
			}
		})
	}
}

// TestDecodeKeyRoundTrip decodes the physical key of logical keys of every
// shape, through the barrier that encrypted them (warm segment cache) and
// through a second one that never saw them (cold cache).
func TestDecodeKeyRoundTrip(t *testing.T) {
	keys := []string{
		"a", "a/b/c", "folder-like/", "a//b", "x/y/z/", "unicode/日本語/キー", "with space/100%/a+b=c",
		"dot/./x", "\xff\xfe/x", "core/mounts", "logical/0123-uuid/versions/ab/cdef/3",
		strings.Repeat("long", 100) + "/" + strings.Repeat("s", 300),
	}
	active, mem, root := newUnsealed(t)
	cold := newStandby(t, mem, root)
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			pk := physKey(t, active, k)
			for name, b := range map[string]*Barrier{"warm": active, "cold": cold} {
				got, err := b.DecodeKey(pk)
				if err != nil || got != k {
					t.Errorf("%s DecodeKey(physical key of %q) = %q, %v", name, k, got, err)
				}
			}
		})
	}
}

func TestDecodeKeyRejects(t *testing.T) {
	active, mem, root := newUnsealed(t)
	other, _, _ := newUnsealed(t)
	enc := strings.TrimPrefix(physKey(t, active, "seg"), dataPrefix)
	foreign := physKey(t, other, "seg")
	sealed := newStandby(t, mem, root)
	sealed.Seal()
	tests := []struct {
		name     string
		b        *Barrier
		physical string
		want     error
	}{
		{"keyring", active, "core/keyring", ErrKeyringKey},
		{"seal record", active, "core/seal/config", ErrNotBarrierKey},
		{"outside namespace", active, "plain/key", ErrNotBarrierKey},
		{"empty", active, "", ErrNotBarrierKey},
		{"namespace root", active, dataPrefix, ErrDecrypt},
		{"not base64", active, dataPrefix + "!!!!", ErrDecrypt},
		{"too short", active, dataPrefix + "AAAA", ErrDecrypt},
		{"other path key", active, foreign, ErrDecrypt},
		{"tampered segment", active, dataPrefix + flipLast(enc), ErrDecrypt},
		{"valid then garbage", active, dataPrefix + enc + "/garbage", ErrDecrypt},
		{"sealed", sealed, dataPrefix + enc, ErrSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.b.DecodeKey(tt.physical)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeKey(%q) = %q, %v; want %v", tt.physical, got, err, tt.want)
			}
		})
	}
}

// flipLast changes the last character of a base64url segment to another
// character of the alphabet whose low bits are zero, so the encoding stays
// canonical and only authentication can fail.
func flipLast(enc string) string {
	last := enc[len(enc)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'Q'
	}
	return enc[:len(enc)-1] + string(repl)
}

// FuzzDecodeKey checks that DecodeKey never panics, and that whatever it
// accepts is a valid logical key whose physical key is exactly the input
// (every logical key has one physical name).
func FuzzDecodeKey(f *testing.F) {
	b, _, _ := newUnsealed(f)
	for _, k := range []string{"a", "a/b/c", "a//b", "x/", "unicode/日本語"} {
		f.Add(physKey(f, b, k))
	}
	for _, s := range []string{"", "d/", "d//", "core/keyring", "core/seal/x", "d/AAAA", "d/\r\n", "d/a/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, physical string) {
		key, err := b.DecodeKey(physical)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrNotBarrierKey) && !errors.Is(err, ErrKeyringKey) {
				t.Fatalf("DecodeKey(%q) = %v; want a documented sentinel", physical, err)
			}
			return
		}
		if storage.ValidateKey(key) != nil || reserved(key) {
			t.Fatalf("DecodeKey(%q) = %q, not a barrier key", physical, key)
		}
		if pk := physKey(t, b, key); pk != physical {
			t.Fatalf("DecodeKey(%q) = %q, whose physical key is %q", physical, key, pk)
		}
	})
}
