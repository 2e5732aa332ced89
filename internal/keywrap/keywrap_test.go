package keywrap

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestVectors checks Wrap and Unwrap against RFC 5649 section 6
// (the same outputs as OpenSSL's id-aes192-wrap-pad).
func TestVectors(t *testing.T) {
	kek, _ := hex.DecodeString("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	for _, tc := range []struct{ key, wrapped string }{
		{"c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
		{"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
	} {
		key, _ := hex.DecodeString(tc.key)
		got, err := Wrap(kek, key)
		if err != nil || hex.EncodeToString(got) != tc.wrapped {
			t.Fatalf("wrap(%s) = %x, %v; want %s", tc.key, got, err, tc.wrapped)
		}
		back, err := Unwrap(kek, got)
		if err != nil || !bytes.Equal(back, key) {
			t.Fatalf("unwrap = %x, %v; want %x", back, err, key)
		}
	}
}

// TestRefusesDamage: every changed byte, a cut, a wrong key and a
// wrapped value with bad padding are refused.
func TestRefusesDamage(t *testing.T) {
	kek := bytes.Repeat([]byte{7}, 32)
	for _, n := range []int{1, 8, 9, 32, 100} {
		key := bytes.Repeat([]byte{0xAB}, n)
		w, err := Wrap(kek, key)
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			bad := bytes.Clone(w)
			bad[i] ^= 1
			if _, err := Unwrap(kek, bad); err == nil {
				t.Fatalf("n=%d: a flipped byte %d unwrapped", n, i)
			}
		}
		if _, err := Unwrap(kek, w[:len(w)-8]); err == nil && len(w) > 16 {
			t.Fatalf("n=%d: a cut value unwrapped", n)
		}
		if _, err := Unwrap(bytes.Repeat([]byte{8}, 32), w); err == nil {
			t.Fatalf("n=%d: unwrapped with another key", n)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, 8), make([]byte, 17), make([]byte, 24)} {
		if _, err := Unwrap(kek, bad); err == nil {
			t.Fatalf("%d bytes of zeros unwrapped", len(bad))
		}
	}
}

// FuzzUnwrap: unwrapping any bytes never panics, and whatever unwraps
// wraps back to exactly those bytes (the check leaves no slack).
func FuzzUnwrap(f *testing.F) {
	kek := bytes.Repeat([]byte{3}, 32)
	for _, n := range []int{1, 8, 20, 32} {
		w, err := Wrap(kek, bytes.Repeat([]byte{0x5A}, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(w)
	}
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Unwrap(kek, data)
		if err != nil {
			return
		}
		again, err := Wrap(kek, out)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("unwrapped %x from %x, which wraps back to %x (%v)", out, data, again, err)
		}
	})
}
