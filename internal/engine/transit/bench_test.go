package transit

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func benchPlaintext(n int) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", n)))
}

func BenchmarkEncrypt(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"64B", 64}, {"4KiB", 4096}} {
		b.Run(size.name, func(b *testing.B) {
			e := newEnv(b)
			e.write("keys/k", nil)
			req := &logical.Request{Operation: logical.UpdateOperation, Path: "encrypt/k",
				Data: map[string]any{"plaintext": benchPlaintext(size.n)}, Storage: e.s}
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"64B", 64}, {"4KiB", 4096}} {
		b.Run(size.name, func(b *testing.B) {
			e := newEnv(b)
			e.write("keys/k", nil)
			ct := e.write("encrypt/k", map[string]any{"plaintext": benchPlaintext(size.n)})["ciphertext"]
			req := &logical.Request{Operation: logical.UpdateOperation, Path: "decrypt/k",
				Data: map[string]any{"ciphertext": ct}, Storage: e.s}
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBatch100 encrypts then decrypts batches of 100 64-byte items;
// one op is one batch request.
func BenchmarkBatch100(b *testing.B) {
	e := newEnv(b)
	e.write("keys/k", nil)
	items := make([]any, 100)
	for i := range items {
		items[i] = map[string]any{"plaintext": benchPlaintext(64)}
	}
	res := e.write("encrypt/k", map[string]any{"batch_input": items})["batch_results"].([]map[string]any)
	decItems := make([]any, len(res))
	for i, r := range res {
		decItems[i] = map[string]any{"ciphertext": r["ciphertext"]}
	}
	for _, tc := range []struct {
		name, path string
		items      []any
	}{{"encrypt", "encrypt/k", items}, {"decrypt", "decrypt/k", decItems}} {
		b.Run(tc.name, func(b *testing.B) {
			req := &logical.Request{Operation: logical.UpdateOperation, Path: tc.path,
				Data: map[string]any{"batch_input": tc.items}, Storage: e.s}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
