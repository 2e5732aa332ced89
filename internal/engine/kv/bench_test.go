package kv

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func BenchmarkKVv2Read(b *testing.B) {
	e := newEnv(b)
	e.put("bench/k", map[string]any{"user": "admin", "password": "correct-horse-battery-staple"})
	req := &logical.Request{Operation: logical.ReadOperation, Path: "data/bench/k", Storage: e.s}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := e.b.HandleRequest(b.Context(), req)
		if err != nil || resp == nil {
			b.Fatalf("read: %v", err)
		}
	}
}

func BenchmarkKVv2Write(b *testing.B) {
	e := newEnv(b)
	data := map[string]any{"data": map[string]any{"user": "admin", "password": "correct-horse-battery-staple"}}
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "data/bench/k", Data: data, Storage: e.s}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.b.HandleRequest(b.Context(), req); err != nil {
			b.Fatalf("write: %v", err)
		}
	}
}
