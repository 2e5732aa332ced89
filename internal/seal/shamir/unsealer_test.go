package shamir

import (
	"bytes"
	"errors"
	"sync"
	"testing"
)

func TestNewUnsealerThreshold(t *testing.T) {
	for _, th := range []int{0, -1, 256} {
		if _, err := NewUnsealer(th); !errors.Is(err, ErrInvalidParameters) {
			t.Errorf("NewUnsealer(%d) = %v; want ErrInvalidParameters", th, err)
		}
	}
	u, err := NewUnsealer(255)
	if err != nil || u.Threshold() != 255 {
		t.Fatalf("NewUnsealer(255) = %v, %v", u, err)
	}
}

func TestUnsealerRejects(t *testing.T) {
	secret := randomKey(t)
	shares, err := Split(secret, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUnsealer(3)
	if err != nil {
		t.Fatal(err)
	}
	nonce := u.Nonce()
	if p, _, _, err := u.Add(shares[0]); err != nil || p != 1 {
		t.Fatalf("Add = %d, %v; want 1, nil", p, err)
	}
	tests := []struct {
		name  string
		share []byte
		want  error
	}{
		{"duplicate", bytes.Clone(shares[0]), ErrDuplicateShare},
		{"empty", nil, ErrInvalidShares},
		{"other length", shares[1][:20], ErrInvalidShares},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, key, done, err := u.Add(tt.share)
			if !errors.Is(err, tt.want) || p != 1 || key != nil || done {
				t.Fatalf("Add = %d, %x, %v, %v; want 1, nil, false, %v", p, key, done, err, tt.want)
			}
		})
	}
	if u.Nonce() != nonce {
		t.Fatal("a rejected share changed the nonce")
	}
	if p, _, _, err := u.Add(shares[3]); err != nil || p != 2 {
		t.Fatalf("Add = %d, %v; want 2, nil", p, err)
	}
	p, key, done, err := u.Add(shares[4])
	if err != nil || !done || p != 3 || !bytes.Equal(key, secret) {
		t.Fatalf("Add #3 = %d, done %v, %v; want 3, done, the secret", p, done, err)
	}
	if u.Progress() != 0 || u.Nonce() == nonce {
		t.Fatalf("after completion: progress %d, nonce changed %v; want 0, true", u.Progress(), u.Nonce() != nonce)
	}
}

func TestUnsealerReset(t *testing.T) {
	shares, err := Split(randomKey(t), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUnsealer(2)
	if err != nil {
		t.Fatal(err)
	}
	nonce := u.Nonce()
	if len(nonce) != 36 || nonce[14] != '4' {
		t.Fatalf("nonce %q is not a version 4 UUID", nonce)
	}
	if _, _, _, err := u.Add(shares[0]); err != nil {
		t.Fatal(err)
	}
	u.Reset()
	if u.Progress() != 0 || u.Nonce() == nonce {
		t.Fatalf("after Reset: progress %d, nonce %q (was %q)", u.Progress(), u.Nonce(), nonce)
	}
	// The share given before Reset is no longer a duplicate.
	if p, _, _, err := u.Add(shares[0]); err != nil || p != 1 {
		t.Fatalf("Add after Reset = %d, %v; want 1, nil", p, err)
	}
}

func TestUnsealerThresholdOne(t *testing.T) {
	key := randomKey(t)
	u, err := NewUnsealer(1)
	if err != nil {
		t.Fatal(err)
	}
	p, got, done, err := u.Add(key)
	if err != nil || !done || p != 1 || !bytes.Equal(got, key) {
		t.Fatalf("Add = %d, done %v, %v; want the share itself", p, done, err)
	}
}

func TestUnsealerCombineFailureResets(t *testing.T) {
	u, err := NewUnsealer(2)
	if err != nil {
		t.Fatal(err)
	}
	// Same x coordinate (last byte), different y: Combine rejects them.
	if _, _, _, err := u.Add([]byte{1, 2, 9}); err != nil {
		t.Fatal(err)
	}
	nonce := u.Nonce()
	p, key, done, err := u.Add([]byte{3, 4, 9})
	if !errors.Is(err, ErrInvalidShares) || p != 0 || key != nil || done {
		t.Fatalf("Add = %d, %x, %v, %v; want 0, nil, false, ErrInvalidShares", p, key, done, err)
	}
	if u.Progress() != 0 || u.Nonce() == nonce {
		t.Fatal("a failed combine did not reset the attempt")
	}
}

// TestUnsealerConcurrent adds shares from several goroutines; run with -race.
func TestUnsealerConcurrent(t *testing.T) {
	secret := randomKey(t)
	shares, err := Split(secret, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUnsealer(5)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	keys := make(chan []byte, len(shares))
	for _, s := range shares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, key, done, err := u.Add(s)
			if err != nil {
				t.Error(err)
			}
			if done {
				keys <- key
			}
			_ = u.Progress()
			_ = u.Nonce()
		}()
	}
	wg.Wait()
	close(keys)
	var got [][]byte
	for k := range keys {
		got = append(got, k)
	}
	if len(got) != 1 || !bytes.Equal(got[0], secret) {
		t.Fatalf("%d completions; want exactly one with the secret", len(got))
	}
}
