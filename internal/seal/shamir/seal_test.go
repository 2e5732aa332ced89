package shamir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/seal"
)

func TestSealWrapUnwrap(t *testing.T) {
	ctx := context.Background()
	s := New()
	if s.Type() != seal.TypeShamir || seal.IsAuto(s) {
		t.Fatalf("Type = %q, IsAuto = %v; want shamir, false", s.Type(), seal.IsAuto(s))
	}
	if _, err := s.Wrap(ctx, []byte("x")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Wrap without key = %v; want ErrNoKey", err)
	}
	if _, err := s.Unwrap(ctx, []byte("x")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Unwrap without key = %v; want ErrNoKey", err)
	}
	kek, root := randomKey(t), randomKey(t)
	given := bytes.Clone(kek)
	s.SetKey(given)
	clear(given) // SetKey keeps its own copy
	blob, err := s.Wrap(ctx, root)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if got, err := seal.UnwrapWithKey(kek, blob, []byte(seal.TypeShamir)); err != nil || !bytes.Equal(got, root) {
		t.Fatalf("UnwrapWithKey(kek, blob, %q) = %v; want the root key", seal.TypeShamir, err)
	}
	got, err := s.Unwrap(ctx, blob)
	if err != nil || !bytes.Equal(got, root) {
		t.Fatalf("Unwrap = %x, %v; want the root key", got, err)
	}
	t.Run("tampered blob", func(t *testing.T) {
		for i := range blob {
			bad := bytes.Clone(blob)
			bad[i] ^= 0x10
			if _, err := s.Unwrap(ctx, bad); !errors.Is(err, seal.ErrUnwrap) {
				t.Fatalf("Unwrap(byte %d flipped) = %v; want ErrUnwrap", i, err)
			}
		}
	})
	t.Run("blob from another seal type", func(t *testing.T) {
		other, err := seal.WrapWithKey(kek, root, []byte(seal.TypeStatic))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unwrap(ctx, other); !errors.Is(err, seal.ErrUnwrap) {
			t.Fatalf("Unwrap = %v; want ErrUnwrap", err)
		}
	})
	t.Run("bad key length", func(t *testing.T) {
		bad := New()
		bad.SetKey(kek[:16])
		if _, err := bad.Wrap(ctx, root); !errors.Is(err, seal.ErrKeyLength) {
			t.Fatalf("Wrap = %v; want ErrKeyLength", err)
		}
		if _, err := bad.Unwrap(ctx, blob); !errors.Is(err, seal.ErrUnwrap) {
			t.Fatalf("Unwrap = %v; want ErrUnwrap", err)
		}
	})
	s.ClearKey()
	if _, err := s.Unwrap(ctx, blob); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Unwrap after ClearKey = %v; want ErrNoKey", err)
	}
}

// TestInitUnsealFlow runs the core's flow: split a fresh key, wrap the root
// key with it, then recover it from shares entered one at a time.
func TestInitUnsealFlow(t *testing.T) {
	ctx := context.Background()
	kek, root := randomKey(t), randomKey(t)
	shares, err := Split(kek, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	initSeal := New()
	initSeal.SetKey(kek)
	blob, err := initSeal.Wrap(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Split(randomKey(t), 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		shares [][]byte
		ok     bool
	}{
		{"shares 0 2 4", pick(shares, []int{0, 2, 4}), true},
		{"shares 4 3 1", pick(shares, []int{4, 3, 1}), true},
		{"shares of another split", pick(other, []int{0, 1, 2}), false},
		{"mixed splits", [][]byte{shares[0], shares[1], other[2]}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NewUnsealer(3)
			if err != nil {
				t.Fatal(err)
			}
			var key []byte
			for i, share := range tt.shares {
				progress, k, done, err := u.Add(share)
				if err != nil {
					// Shares of different splits may share an x coordinate.
					if !tt.ok && errors.Is(err, ErrInvalidShares) {
						return
					}
					t.Fatalf("Add: %v", err)
				}
				if done != (i == 2) || progress != i+1 {
					t.Fatalf("Add #%d = progress %d, done %v", i+1, progress, done)
				}
				key = k
			}
			s := New()
			s.SetKey(key)
			got, err := s.Unwrap(ctx, blob)
			if tt.ok && (err != nil || !bytes.Equal(got, root)) {
				t.Fatalf("Unwrap = %v; want the root key", err)
			}
			if !tt.ok && !errors.Is(err, seal.ErrUnwrap) {
				t.Fatalf("Unwrap with wrong shares = %v; want ErrUnwrap", err)
			}
		})
	}
}

func TestSealRedacted(t *testing.T) {
	s := New()
	kek := randomKey(t)
	s.SetKey(kek)
	u, err := NewUnsealer(2)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := u.Add(kek); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, v := range []any{s, u} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
			fmt.Fprintf(&buf, verb+"\n", v)
		}
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v)
	}
	out := buf.String()
	for _, leak := range []string{fmt.Sprintf("%x", kek), string(kek), strings.Trim(fmt.Sprint(kek[:6]), "[]")} {
		if strings.Contains(out, leak) {
			t.Fatalf("output leaks the key:\n%s", out)
		}
	}
	if !strings.Contains(out, "[REDACTED]") {
		t.Fatalf("output is not redacted:\n%s", out)
	}
}
