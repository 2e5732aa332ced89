package barrier

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	tests := []struct {
		name  string
		key   string
		value []byte
	}{
		{"empty", "e", []byte{}},
		{"short", "secret/short", []byte("hunter2-hunter2-hunter2")},
		{"binary", "secret/bin", bytes.Repeat([]byte{0, 0xff, 7}, 100)},
		{"large", "secret/large", bytes.Repeat([]byte("supersecretvalue"), 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.Put(ctx, &storage.Entry{Key: tt.key, Value: tt.value}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			e, err := b.Get(ctx, tt.key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if e.Key != tt.key || !bytes.Equal(e.Value, tt.value) {
				t.Fatalf("Get = %q %x; want %q %x", e.Key, e.Value, tt.key, tt.value)
			}
			raw := mem.raw(physKey(t, b, tt.key))
			if len(raw) != len(tt.value)+minValueSize {
				t.Fatalf("stored %d bytes; want %d", len(raw), len(tt.value)+minValueSize)
			}
			if raw[termSize] != versionAESGCM || binary.BigEndian.Uint32(raw) != 1 {
				t.Fatalf("stored header % x; want term 1 version 1", raw[:termSize+versionSize])
			}
			if len(tt.value) >= 8 && bytes.Contains(raw, tt.value[:8]) {
				t.Fatal("physical value contains plaintext bytes")
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if _, err := b.Get(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get(missing) = %v; want ErrNotFound", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := b.Delete(ctx, "e"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := b.Get(ctx, "e"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get after Delete = %v; want ErrNotFound", err)
		}
	})
}

func TestNonceFresh(t *testing.T) {
	b, mem, _ := newUnsealed(t)
	mustPut(t, b, "k", "same value")
	first := mem.raw(physKey(t, b, "k"))
	mustPut(t, b, "k", "same value")
	if bytes.Equal(first, mem.raw(physKey(t, b, "k"))) {
		t.Fatal("two encryptions of the same value are identical")
	}
}

func TestAADBinding(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mustPut(t, b, "secret/a", "value of a")
	mem.setRaw(physKey(t, b, "secret/b"), mem.raw(physKey(t, b, "secret/a")))
	_, err := b.Get(ctx, "secret/b")
	if !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Get of moved ciphertext = %v; want ErrDecrypt", err)
	}
	if want := `"secret/b"`; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("error %q does not name the key %s", err, want)
	}
}

func TestBadCiphertext(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mustPut(t, b, "good", "a value long enough")
	good := mem.raw(physKey(t, b, "good"))
	flip := func(i int) []byte { v := slices.Clone(good); v[i] ^= 0x80; return v }
	tests := []struct {
		name  string
		value []byte
	}{
		{"empty", nil},
		{"one byte", []byte{1}},
		{"header only", good[:headerSize]},
		{"one short of a tag", good[:minValueSize-1]},
		{"truncated tag", good[:len(good)-1]},
		{"term 0", append([]byte{0, 0, 0, 0}, good[termSize:]...)},
		{"unknown term", flip(0)},
		{"unknown version", flip(termSize)},
		{"flipped nonce", flip(termSize + versionSize)},
		{"flipped ciphertext", flip(headerSize)},
		{"flipped tag", flip(len(good) - 1)},
		{"garbage", bytes.Repeat([]byte{0xa5}, 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem.setRaw(physKey(t, b, "bad"), tt.value)
			if _, err := b.Get(ctx, "bad"); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Get = %v; want ErrDecrypt", err)
			}
		})
	}
}

func TestReservedKeys(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mem.setRaw("core/seal/config", []byte(`{"type":"shamir"}`))
	mustPut(t, b, "core/mounts", "m")
	mustPut(t, b, "core/keyring/not-the-keyring", "fine")
	for _, key := range []string{"core/keyring", "core/seal/config", "core/seal/x/y"} {
		t.Run(key, func(t *testing.T) {
			if _, err := b.Get(ctx, key); !errors.Is(err, ErrReservedKey) {
				t.Errorf("Get = %v; want ErrReservedKey", err)
			}
			if err := b.Put(ctx, &storage.Entry{Key: key, Value: []byte("x")}); !errors.Is(err, ErrReservedKey) {
				t.Errorf("Put = %v; want ErrReservedKey", err)
			}
			if err := b.Delete(ctx, key); !errors.Is(err, ErrReservedKey) {
				t.Errorf("Delete = %v; want ErrReservedKey", err)
			}
			op := storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: key}}
			if err := b.Transaction(ctx, []storage.TxnOp{op}); !errors.Is(err, ErrReservedKey) {
				t.Errorf("Transaction = %v; want ErrReservedKey", err)
			}
		})
	}
	if _, err := b.List(ctx, "core/seal/"); !errors.Is(err, ErrReservedKey) {
		t.Errorf("List(core/seal/) = %v; want ErrReservedKey", err)
	}
	if string(mem.raw("core/seal/config")) != `{"type":"shamir"}` {
		t.Error("seal config changed through the barrier")
	}
	lists := map[string][]string{
		"core/":     {"keyring/", "mounts"},
		"core/seal": nil,
		"core/key":  {"ring/"},
		"":          {"core/"},
	}
	for prefix, want := range lists {
		got, err := b.List(ctx, prefix)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, %v; want %q", prefix, got, err, want)
		}
	}
}

// TestListHidesCore checks that "core/" is not listed when it holds only
// the keyring and the seal layer's entries.
func TestListHidesCore(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mem.setRaw("core/seal/config", []byte("{}"))
	for _, prefix := range []string{"", "co", "core/"} {
		if got, err := b.List(ctx, prefix); err != nil || got != nil {
			t.Errorf("List(%q) = %q, %v; want nil, nil", prefix, got, err)
		}
	}
	mustPut(t, b, "data", "x")
	if got, err := b.List(ctx, ""); err != nil || !slices.Equal(got, []string{"data"}) {
		t.Errorf("List(\"\") = %q, %v; want [data]", got, err)
	}
	mustPut(t, b, "core/mounts", "x")
	if got, err := b.List(ctx, "co"); err != nil || !slices.Equal(got, []string{"re/"}) {
		t.Errorf("List(co) = %q, %v; want [re/]", got, err)
	}
}

func TestInvalidKeys(t *testing.T) {
	ctx := context.Background()
	b, _, _ := newUnsealed(t)
	for _, key := range []string{"", "/abs", "a/../b"} {
		if err := b.Put(ctx, &storage.Entry{Key: key}); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v; want ErrInvalidKey", key, err)
		}
		if _, err := b.Get(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v; want ErrInvalidKey", key, err)
		}
	}
	if err := b.Put(ctx, nil); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("Put(nil) = %v; want ErrInvalidKey", err)
	}
}

func TestTransaction(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mustPut(t, b, "t/gone", "x")
	ops := []storage.TxnOp{
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "t/a", Value: []byte("alpha")}},
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "t/b", Value: []byte("beta")}},
		{Kind: storage.OpDelete, Entry: storage.Entry{Key: "t/gone"}},
	}
	if err := b.Transaction(ctx, ops); err != nil {
		t.Fatalf("Transaction: %v", err)
	}
	if got := mustGet(t, b, "t/a"); got != "alpha" {
		t.Errorf("t/a = %q", got)
	}
	if bytes.Contains(mem.raw(physKey(t, b, "t/b")), []byte("beta")) {
		t.Error("transaction stored plaintext")
	}
	if _, err := b.Get(ctx, "t/gone"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("t/gone = %v; want ErrNotFound", err)
	}
	bad := []storage.TxnOp{{Kind: storage.OpKind(99), Entry: storage.Entry{Key: "t/c"}}}
	if err := b.Transaction(ctx, bad); !errors.Is(err, storage.ErrInvalidOp) {
		t.Errorf("Transaction with an unknown kind = %v; want ErrInvalidOp", err)
	}
}

// TestConcurrentRotate runs Puts and Gets while rotating; run with -race.
func TestConcurrentRotate(t *testing.T) {
	ctx := context.Background()
	b, _, root := newUnsealed(t)
	const workers, perWorker, rotations = 4, 50, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker+rotations)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				key, want := fmt.Sprintf("w%d/%d", w, i), fmt.Sprintf("value %d %d", w, i)
				if err := b.Put(ctx, &storage.Entry{Key: key, Value: []byte(want)}); err != nil {
					errs <- err
					continue
				}
				e, err := b.Get(ctx, key)
				if err != nil {
					errs <- err
				} else if string(e.Value) != want {
					errs <- fmt.Errorf("Get(%q) = %q; want %q", key, e.Value, want)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rotations {
			if _, err := b.Rotate(ctx); err != nil {
				errs <- err
			}
			_ = b.KeyStatus()
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := b.KeyStatus(); st.Term != rotations+1 {
		t.Fatalf("active term = %d; want %d", st.Term, rotations+1)
	}
	// Every value is still readable after a reseal.
	b.Seal()
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	for w := range workers {
		for i := range perWorker {
			if got, want := mustGet(t, b, fmt.Sprintf("w%d/%d", w, i)), fmt.Sprintf("value %d %d", w, i); got != want {
				t.Errorf("after reseal: %q; want %q", got, want)
			}
		}
	}
}
