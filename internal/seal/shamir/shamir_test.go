package shamir

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
)

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// subsets returns every subset of {0..n-1} of size k, in lexicographic order.
func subsets(n, k int) [][]int {
	if k == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for first := 0; first <= n-k; first++ {
		for _, rest := range subsets(n-first-1, k-1) {
			s := []int{first}
			for _, r := range rest {
				s = append(s, first+1+r)
			}
			out = append(out, s)
		}
	}
	return out
}

func pick(shares [][]byte, idx []int) [][]byte {
	out := make([][]byte, len(idx))
	for i, j := range idx {
		out[i] = shares[j]
	}
	return out
}

func TestSplitCombineEverySubset(t *testing.T) {
	secret := randomKey(t)
	shares, err := Split(secret, 5, 3)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if len(shares) != 5 {
		t.Fatalf("Split returned %d shares; want 5", len(shares))
	}
	for _, s := range shares {
		if len(s) != len(secret)+1 {
			t.Fatalf("share of %d bytes; want %d", len(s), len(secret)+1)
		}
	}
	for size := 1; size <= 5; size++ {
		for _, idx := range subsets(5, size) {
			t.Run(fmt.Sprint(idx), func(t *testing.T) {
				got, err := Combine(pick(shares, idx))
				if err != nil {
					t.Fatalf("Combine: %v", err)
				}
				if enough := size >= 3; bytes.Equal(got, secret) != enough {
					t.Fatalf("Combine of %d shares recovered the secret = %v; want %v", size, !enough, enough)
				}
			})
		}
	}
	if n := len(subsets(5, 3)); n != 10 {
		t.Fatalf("subsets(5, 3) has %d elements; want 10", n)
	}
}

func TestSplitOneShare(t *testing.T) {
	secret := randomKey(t)
	shares, err := Split(secret, 1, 1)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if len(shares) != 1 || !bytes.Equal(shares[0], secret) {
		t.Fatal("the single share is not the secret itself")
	}
	shares[0][0] ^= 1
	if shares[0][0] == secret[0] {
		t.Fatal("the single share aliases the secret")
	}
	got, err := Combine([][]byte{secret})
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Combine(one share) = %x, %v; want the share", got, err)
	}
}

func TestSplitInvalid(t *testing.T) {
	secret := randomKey(t)
	tests := []struct {
		name             string
		secret           []byte
		parts, threshold int
	}{
		{"empty secret", nil, 5, 3},
		{"zero parts", secret, 0, 0},
		{"too many parts", secret, 256, 3},
		{"threshold above parts", secret, 3, 4},
		{"threshold 0", secret, 3, 0},
		{"threshold 1 of 3", secret, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Split(tt.secret, tt.parts, tt.threshold); !errors.Is(err, ErrInvalidParameters) {
				t.Fatalf("Split = %v; want ErrInvalidParameters", err)
			}
		})
	}
}

func TestCombineInvalid(t *testing.T) {
	shares, err := Split(randomKey(t), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		shares [][]byte
	}{
		{"none", nil},
		{"one empty", [][]byte{{}}},
		{"lengths differ", [][]byte{shares[0], shares[1][:10]}},
		{"same share twice", [][]byte{shares[0], shares[0]}},
		{"too short", [][]byte{{1}, {2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Combine(tt.shares); !errors.Is(err, ErrInvalidShares) {
				t.Fatalf("Combine = %v; want ErrInvalidShares", err)
			}
		})
	}
}

func FuzzCombine(f *testing.F) {
	shares, err := Split([]byte("a secret to split"), 3, 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shares[0], shares[1])
	f.Add([]byte{}, []byte{1})
	f.Add([]byte{1, 2}, []byte{3, 2})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		got, err := Combine([][]byte{a, b})
		if err != nil {
			if !errors.Is(err, ErrInvalidShares) {
				t.Fatalf("Combine error %v does not wrap ErrInvalidShares", err)
			}
			return
		}
		if len(got) != len(a)-1 {
			t.Fatalf("Combine returned %d bytes from %d-byte shares", len(got), len(a))
		}
	})
}
