package server_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

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
// loopback, with a non-root token so policy evaluation is real.
func BenchmarkKVv2ReadHTTP(b *testing.B) {
	in := servertest.Start(b, servertest.Options{})
	ctx := context.Background()
	if _, err := in.Client.KVv2("secret").Put(ctx, "bench", map[string]any{"password": "x"}); err != nil {
		b.Fatal(err)
	}
	if err := in.Client.Sys().PutPolicy("reader", `path "secret/data/bench" { capabilities = ["read"] }`); err != nil {
		b.Fatal(err)
	}
	s, err := in.Client.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"reader"}})
	if err != nil {
		b.Fatal(err)
	}
	tok := s.Auth.ClientToken
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := in.URL() + "/v1/secret/data/bench"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("X-Vault-Token", tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
