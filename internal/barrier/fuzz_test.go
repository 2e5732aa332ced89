package barrier

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// FuzzDecrypt stores arbitrary bytes under a key and checks that Get never
// panics and reports anything that is not a valid ciphertext as ErrDecrypt.
func FuzzDecrypt(f *testing.F) {
	b, mem, _ := newUnsealed(f)
	mustPut(f, b, "seed", "a seed value")
	valid := mem.raw("seed")
	f.Add(valid)
	f.Add(valid[:minValueSize])
	f.Add(valid[:headerSize])
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 1})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, value []byte) {
		mem.setRaw("fuzz", value)
		e, err := b.Get(ctx, "fuzz")
		if err == nil {
			t.Fatalf("Get of arbitrary bytes succeeded: %q", e.Value)
		}
		if !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Get = %v; want ErrDecrypt", err)
		}
	})
}
