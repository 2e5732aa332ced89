package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWrapRoundTrip(t *testing.T) {
	key := newKey(t)
	for _, plaintext := range [][]byte{{}, []byte("root key material 32 bytes long!"), bytes.Repeat([]byte{7}, 1000)} {
		blob, err := WrapWithKey(key, plaintext, []byte("aad"))
		if err != nil {
			t.Fatalf("WrapWithKey: %v", err)
		}
		if len(blob) != len(plaintext)+minBlobSize || blob[0] != wrapVersion {
			t.Fatalf("blob of %d bytes, version %d; want %d bytes, version 1", len(blob), blob[0], len(plaintext)+minBlobSize)
		}
		if len(plaintext) > 8 && bytes.Contains(blob, plaintext[:8]) {
			t.Fatal("blob contains plaintext")
		}
		got, err := UnwrapWithKey(key, blob, []byte("aad"))
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("UnwrapWithKey = %x, %v; want %x", got, err, plaintext)
		}
	}
}

func TestWrapKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := WrapWithKey(make([]byte, n), []byte("x"), nil); !errors.Is(err, ErrKeyLength) {
			t.Errorf("WrapWithKey(%d-byte key) = %v; want ErrKeyLength", n, err)
		}
	}
}

func TestUnwrapFailures(t *testing.T) {
	key := newKey(t)
	blob, err := WrapWithKey(key, []byte("the root key"), []byte("shamir"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		key, blob []byte
		aad       string
	}{
		{"wrong key", newKey(t), blob, "shamir"},
		{"short key", key[:16], blob, "shamir"},
		{"wrong aad", key, blob, "static"},
		{"empty blob", key, nil, "shamir"},
		{"truncated", key, blob[:len(blob)-1], "shamir"},
		{"header only", key, blob[:headerSize], "shamir"},
		{"extended", key, append(slices.Clone(blob), 0), "shamir"},
	}
	for i := range blob {
		tampered := slices.Clone(blob)
		tampered[i] ^= 0x01
		tests = append(tests, struct {
			name      string
			key, blob []byte
			aad       string
		}{"flip byte", key, tampered, "shamir"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnwrapWithKey(tt.key, tt.blob, []byte(tt.aad))
			if !errors.Is(err, ErrUnwrap) || got != nil {
				t.Fatalf("UnwrapWithKey = %x, %v; want nil, ErrUnwrap", got, err)
			}
		})
	}
}

func FuzzUnwrapWithKey(f *testing.F) {
	key := newKey(f)
	blob, err := WrapWithKey(key, []byte("seed plaintext"), []byte("aad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob, []byte("aad"))
	f.Add(blob[:minBlobSize], []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{wrapVersion}, []byte("aad"))
	f.Add(bytes.Repeat([]byte{0xff}, 64), []byte(nil))
	f.Fuzz(func(t *testing.T, blob, aad []byte) {
		got, err := UnwrapWithKey(key, blob, aad)
		if err != nil {
			if !errors.Is(err, ErrUnwrap) || got != nil {
				t.Fatalf("UnwrapWithKey = %x, %v; want nil, ErrUnwrap", got, err)
			}
			return
		}
		// Only a genuine blob opens: re-wrapping must round-trip.
		again, err := WrapWithKey(key, got, aad)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := UnwrapWithKey(key, again, aad); err != nil || !bytes.Equal(back, got) {
			t.Fatalf("round trip of unwrapped value failed: %v", err)
		}
	})
}
