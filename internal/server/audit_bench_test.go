package server_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// BenchmarkKVv2ReadAudit is BenchmarkKVv2ReadHTTP with the audit log off
// and with one file sink (hashing, chaining and checkpoints every 100
// entries), for the audit overhead in BENCHMARKS.md.
func BenchmarkKVv2ReadAudit(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  func(dir string) *config.Config
	}{
		{"off", func(string) *config.Config { return config.DevConfig("127.0.0.1:0") }},
		{"file", func(dir string) *config.Config {
			return auditConfig(filepath.Join(dir, "audit.log"), map[string]string{"checkpoint_entries": "100"})
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := servertest.Start(b, servertest.Options{Config: bc.cfg(b.TempDir())})
			benchKVRead(b, in)
		})
	}
}

func benchKVRead(b *testing.B, in *servertest.Instance) {
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

// BenchmarkKVv2ReadAuditCore is the same comparison through the core
// alone (no HTTP), where the audit share of the cost is easiest to see.
func BenchmarkKVv2ReadAuditCore(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  func(dir string) *config.Config
	}{
		{"off", func(string) *config.Config { return config.DevConfig("127.0.0.1:0") }},
		{"file", func(dir string) *config.Config {
			return auditConfig(filepath.Join(dir, "audit.log"), map[string]string{"checkpoint_entries": "100"})
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := servertest.Start(b, servertest.Options{Config: bc.cfg(b.TempDir())})
			if _, err := in.Client.KVv2("secret").Put(context.Background(), "bench", map[string]any{"password": "x"}); err != nil {
				b.Fatal(err)
			}
			c := in.Server.Core
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					resp, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation,
						Path: "secret/data/bench", ClientToken: in.RootToken, RemoteAddr: "127.0.0.1"})
					if err != nil || resp == nil {
						b.Fatalf("read: %v", err)
					}
				}
			})
		})
	}
}
