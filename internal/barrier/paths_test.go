package barrier

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"

	"github.com/cofferdev/coffer/internal/storage"
)

// hiddenKeys are logical keys whose names must not reach the backend.
var hiddenKeys = []string{
	"logical/0b5c2a36-8d4e-4f0a-9c1e-2f3a4b5c6d7e/versions/app/db/1",
	"logical/0b5c2a36-8d4e-4f0a-9c1e-2f3a4b5c6d7e/metadata/app/db",
	"sys/token/accessor/abc",
	"secret/with space/per%cent/plus+eq=/ünï/日本語",
	"folder-like/",
	"a//double/slash",
	"dot/./xyz",
	"core/mounts",
	"top",
}

// TestPhysicalHidesNames scans every physical key and value for every
// segment of at least 3 bytes of the logical keys written, through Put and
// through Transaction. Each value is its own key, so a value leak shows too.
func TestPhysicalHidesNames(t *testing.T) {
	// A fixed seed makes the keys, and so the scan, deterministic: a 3-byte
	// string turns up by chance in this much random data about once in a
	// thousand runs. A real leak shows with any seed.
	cryptotest.SetGlobalRandom(t, 1)
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	var ops []storage.TxnOp
	for i, k := range hiddenKeys {
		if i%2 == 0 {
			mustPut(t, b, k, k)
			continue
		}
		ops = append(ops, storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: k, Value: []byte(k)}})
	}
	if err := b.Transaction(ctx, ops); err != nil {
		t.Fatalf("Transaction: %v", err)
	}
	var segments []string
	for _, k := range hiddenKeys {
		for seg := range strings.SplitSeq(k, "/") {
			if len(seg) >= 3 {
				segments = append(segments, seg)
			}
		}
	}
	stored := mem.snapshot()
	if len(stored) != len(hiddenKeys)+1 {
		t.Fatalf("backend holds %d keys; want %d and the keyring", len(stored), len(hiddenKeys))
	}
	for phys, value := range stored {
		if phys != keyringPath && !strings.HasPrefix(phys, dataPrefix) {
			t.Errorf("physical key %q is outside %q", phys, dataPrefix)
		}
		// The key as stored and its segments base64url-decoded, so that
		// an encoding that does not encrypt fails too. "core/keyring" is
		// the one fixed plaintext name (and shares "core" with
		// "core/mounts").
		var names [][]byte
		if phys != keyringPath {
			names = append(names, []byte(phys))
			for s := range strings.SplitSeq(phys, "/") {
				if raw, err := base64.RawURLEncoding.DecodeString(s); err == nil {
					names = append(names, raw)
				}
			}
		}
		for _, seg := range segments {
			for _, name := range names {
				if bytes.Contains(name, []byte(seg)) {
					t.Errorf("physical key %q contains the segment %q", phys, seg)
				}
			}
			if bytes.Contains(value, []byte(seg)) {
				t.Errorf("value at %q contains the segment %q", phys, seg)
			}
		}
	}
	for _, k := range hiddenKeys {
		if got := mustGet(t, b, k); got != k {
			t.Errorf("Get(%q) = %q", k, got)
		}
	}
}

// TestPhysicalKeyShape checks the mapping: deterministic, "/" kept in place,
// equal segments equal wherever they are, different keys different.
func TestPhysicalKeyShape(t *testing.T) {
	ctx := context.Background()
	b, mem, root := newUnsealed(t)
	mustPut(t, b, "a/b/c", "1")
	mustPut(t, b, "a/b/c", "2")
	if n := len(mem.snapshot()); n != 2 {
		t.Fatalf("two Puts of one key left %d physical keys; want it and the keyring", n)
	}
	other := New(mem, Options{})
	if err := other.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/b/c", "a/", "a//b", "x/b", "a/b/C", "a/bc", "ü/日本語/"} {
		p := physKey(t, b, k)
		if p2 := physKey(t, other, k); p2 != p {
			t.Errorf("%q maps to %q and, in another process, %q", k, p, p2)
		}
		rest, ok := strings.CutPrefix(p, dataPrefix)
		if !ok || strings.Count(rest, "/") != strings.Count(k, "/") || strings.HasSuffix(rest, "/") != strings.HasSuffix(k, "/") {
			t.Errorf("%q maps to %q: slashes moved", k, p)
		}
	}
	seg := func(key string, i int) string { return strings.Split(physKey(t, b, key), "/")[i+1] }
	if seg("a/b/c", 1) != seg("x/b", 1) {
		t.Error(`segment "b" encrypts differently in two places`)
	}
	if got := seg("a//b", 1); got != "" {
		t.Errorf("empty segment maps to %q; want it empty", got)
	}
	distinct := map[string]string{}
	for _, k := range []string{"a/b/c", "a/b/C", "a/bc", "a/b/c/", "ab/c", "a/b/c "} {
		p := physKey(t, b, k)
		if prev, ok := distinct[p]; ok {
			t.Errorf("%q and %q share the physical key %q", k, prev, p)
		}
		distinct[p] = k
	}
}

// TestKeyNameLayout encrypts a key by hand, following the package doc, with
// the path key read from the stored keyring.
func TestKeyNameLayout(t *testing.T) {
	b, mem, root := newUnsealed(t)
	const key = "logical/abc/versions/ünï/"
	mustPut(t, b, key, "v")
	pathKey := openStoredKeyring(t, mem, root).PathKey
	macKey, err := hkdf.Key(sha256.New, pathKey, nil, "coffer barrier path mac", 32)
	if err != nil {
		t.Fatal(err)
	}
	encKey, err := hkdf.Key(sha256.New, pathKey, nil, "coffer barrier path enc", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		t.Fatal(err)
	}
	want := "d/"
	for i, s := range []string{"logical", "abc", "versions", "ünï"} {
		m := hmac.New(sha256.New, macKey)
		m.Write([]byte(s))
		tag := m.Sum(nil)[:16]
		ct := make([]byte, len(s))
		cipher.NewCTR(block, tag).XORKeyStream(ct, []byte(s))
		if i > 0 {
			want += "/"
		}
		want += base64.RawURLEncoding.EncodeToString(append(tag, ct...))
	}
	want += "/"
	if _, ok := mem.snapshot()[want]; !ok {
		t.Fatalf("no physical key %q; the backend holds %q", want, slices.Sorted(maps.Keys(mem.snapshot())))
	}
}

// TestListUnusualNames lists nested folders whose names need escaping
// almost anywhere else, at every level and at prefixes that end inside a
// name, against the reference model.
func TestListUnusualNames(t *testing.T) {
	ctx := context.Background()
	b, _, _ := newUnsealed(t)
	keys := []string{
		"n/ünïcødé/日本語/キー", "n/ünïcødé/🔑", "n/with space/a b", "n/with space/ trailing ",
		"n/100%/x", "n/100%/y/z", "n/a+b/=c=", "n/a+b/c", "n/=/+", "n/%2F/%", "n/B", "n/b",
		"n/b/c", "n/b0", "n/é", "n/e", "n/e/", "n/e//f", "m",
	}
	for _, k := range keys {
		mustPut(t, b, k, k)
	}
	prefixes := []string{
		"", "n/", "n/ünïcødé/", "n/ünïcødé/日本語/", "n/with space/", "n/100%/", "n/100%/y/",
		"n/a+b/", "n/=/", "n/%2F/", "n/b/", "n/e/", "n/e//", "n/missing/",
		"n", "n/a", "n/100", "n/ü", "n/with", "n/b", "n/100%/y", "n/=", "n/e", "n/é", "n/e/x", "zz",
	}
	for _, prefix := range prefixes {
		t.Run(prefix, func(t *testing.T) {
			got, err := b.List(ctx, prefix)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			want := modelList(keys, prefix)
			if !slices.Equal(got, want) || (want == nil) != (got == nil) {
				t.Fatalf("List(%q) = %q; want %q", prefix, got, want)
			}
		})
	}
}

// TestTamperedName plants physical keys whose last segment is not a valid
// encryption under the path key; List of their folder must fail with
// ErrDecrypt, naming no plaintext name.
func TestTamperedName(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mustPut(t, b, "t/secret-name1", "v") // 12 bytes: the encoding has 4 unused bits
	mustPut(t, b, "t/sibling/x", "v")
	folder, good := splitPrefix(physKey(t, b, "t/secret-name1"))
	other, _, _ := newUnsealed(t)
	_, foreign := splitPrefix(physKey(t, other, "t/secret-name1"))
	replace := func(i int) string {
		c := byte('A')
		if good[i] == 'A' {
			c = 'B'
		}
		return good[:i] + string(c) + good[i+1:]
	}
	// Flip the lowest of the last character's 4 unused bits.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	v := strings.IndexByte(alphabet, good[len(good)-1])
	nonCanonical := good[:len(good)-1] + string(alphabet[v^1])
	tests := []struct{ name, child string }{
		{"flipped tag", replace(2)},
		{"flipped ciphertext", replace(len(good) - 3)},
		{"truncated", good[:len(good)-4]},
		{"tag only", good[:22]},
		{"not base64", "!!!!" + good[4:]},
		{"padded", good + "=="},
		{"newline", good[:10] + "\n" + good[10:]},
		{"unused bits set", nonCanonical},
		{"other path key", foreign},
		{"plaintext", "secret-name2"},
		{"tampered folder", replace(2) + "/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem.setRaw(folder+tt.child, []byte("v"))
			defer mem.del(folder + tt.child)
			_, err := b.List(ctx, "t/")
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("List = %v; want ErrDecrypt", err)
			}
			for _, name := range []string{"secret-name", "sibling"} {
				if strings.Contains(err.Error(), name) {
					t.Errorf("error %q names %q", err, name)
				}
			}
			if got := mustGet(t, b, "t/secret-name1"); got != "v" {
				t.Errorf("Get of the untouched key = %q", got)
			}
		})
	}
	if got, err := b.List(ctx, "t/"); err != nil || !slices.Equal(got, []string{"secret-name1", "sibling/"}) {
		t.Fatalf("List after removing the planted keys = %q, %v", got, err)
	}
}

// TestMovedSegment: a valid encrypted name moved to another place shows in
// List, but the value does not decrypt there (its AAD is the logical key).
func TestMovedSegment(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mustPut(t, b, "x/a", "value of x/a")
	mustPut(t, b, "y/b", "value of y/b")
	moved := physKey(t, b, "y/a")
	mem.setRaw(moved, mem.raw(physKey(t, b, "x/a")))
	if got, err := b.List(ctx, "y/"); err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("List(y/) = %q, %v", got, err)
	}
	if _, err := b.Get(ctx, "y/a"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Get of a moved value = %v; want ErrDecrypt", err)
	}
}
