package barrier

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

// FuzzDecrypt stores arbitrary bytes under a key and checks that Get never
// panics and reports anything that is not a valid ciphertext as ErrDecrypt.
func FuzzDecrypt(f *testing.F) {
	b, mem, _ := newUnsealed(f)
	mustPut(f, b, "seed", "a seed value")
	valid := mem.raw(physKey(f, b, "seed"))
	f.Add(valid)
	f.Add(valid[:minValueSize])
	f.Add(valid[:headerSize])
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 1})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, value []byte) {
		mem.setRaw(physKey(t, b, "fuzz"), value)
		e, err := b.Get(ctx, "fuzz")
		if err == nil {
			t.Fatalf("Get of arbitrary bytes succeeded: %q", e.Value)
		}
		if !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Get = %v; want ErrDecrypt", err)
		}
	})
}

// FuzzKeyRoundTrip writes an arbitrary logical key next to a few fixed ones
// and checks Put, Get, List at prefixes of the key (against the reference
// model), and Delete.
func FuzzKeyRoundTrip(f *testing.F) {
	b, mem, _ := newUnsealed(f)
	background := []string{"a/b", "a/c/", "a//d", "zz"}
	for _, k := range background {
		mustPut(f, b, k, k)
	}
	for _, seed := range []string{
		"a", "a/b/c", "folder-like/", "a//b", "a/b", "unicode/日本語/キー", "with space/100%/a+b=c",
		"dot/./x", "\xff\xfe/x", "core/mounts", "core/seal/x", "core/keyring", "/abs", "a/../b", "",
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, key string) {
		err := b.Put(ctx, &storage.Entry{Key: key, Value: []byte(key)})
		switch {
		case storage.ValidateKey(key) != nil:
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Fatalf("Put(%q) = %v; want ErrInvalidKey", key, err)
			}
			return
		case reserved(key):
			if !errors.Is(err, ErrReservedKey) {
				t.Fatalf("Put(%q) = %v; want ErrReservedKey", key, err)
			}
			return
		case err != nil:
			t.Fatalf("Put(%q): %v", key, err)
		}
		if got := mustGet(t, b, key); got != key {
			t.Fatalf("Get(%q) = %q", key, got)
		}
		keys := append(slices.Clone(background), key)
		for _, i := range listPoints(key) {
			prefix := key[:i]
			if storage.ValidatePrefix(prefix) != nil || reserved(prefix) {
				continue
			}
			got, err := b.List(ctx, prefix)
			if want := modelList(keys, prefix); err != nil || !slices.Equal(got, want) {
				t.Fatalf("List(%q) = %q, %v; want %q", prefix, got, err, want)
			}
		}
		if slices.Contains(background, key) {
			return
		}
		if err := b.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
		if n := len(mem.snapshot()); n != len(background)+1 {
			t.Fatalf("after Delete(%q) the backend holds %d keys; want %d", key, n, len(background)+1)
		}
	})
}

// listPoints returns the prefix lengths of key that FuzzKeyRoundTrip lists:
// every one for a short key, else the ends and both sides of each "/", so
// that a long key costs a linear number of List calls.
func listPoints(key string) []int {
	var out []int
	for i := range len(key) + 1 {
		if len(key) <= 64 || i == 0 || i == len(key) || key[i-1] == '/' || key[i] == '/' || (i > 1 && key[i-2] == '/') {
			out = append(out, i)
		}
	}
	return out
}
