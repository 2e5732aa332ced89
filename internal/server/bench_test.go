package server_test

import (
	"context"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// BenchmarkKVv2ReadCore measures a KV v2 read through the whole pipeline
// (token lookup, ACL, routing, barrier decrypt) without HTTP.
func BenchmarkKVv2ReadCore(b *testing.B) {
	in := servertest.Start(b, servertest.Options{})
	if _, err := in.Client.KVv2("secret").Put(context.Background(), "bench", map[string]any{"password": "x"}); err != nil {
		b.Fatal(err)
	}
	tok := in.RootToken
	c := in.Server.Core
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			resp, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation,
				Path: "secret/data/bench", ClientToken: tok, RemoteAddr: "127.0.0.1"})
			if err != nil || resp == nil {
				b.Fatalf("read: %v", err)
			}
		}
	})
}

// BenchmarkKVv2ReadHTTP measures the same read over HTTP/1.1 keep-alive on
// loopback, with a non-root token so policy evaluation is real (the body is
// benchKVRead, shared with the audit benchmarks).
func BenchmarkKVv2ReadHTTP(b *testing.B) {
	benchKVRead(b, servertest.Start(b, servertest.Options{}))
}
