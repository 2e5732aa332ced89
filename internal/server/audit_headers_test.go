package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestAuditHeaders: a sink's `headers` option writes those request headers,
// never the token; a sink without it writes no headers at all.
func TestAuditHeaders(t *testing.T) {
	for _, withHeaders := range []bool{true, false} {
		t.Run(map[bool]string{true: "listed", false: "none"}[withHeaders], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			opts := map[string]string{}
			if withHeaders {
				opts["headers"] = "User-Agent,X-Request-Source"
			}
			in := servertest.Start(t, servertest.Options{Config: auditConfig(path, opts)})
			ctx := context.Background()
			if _, err := in.Client.KVv2("secret").Put(ctx, "h", map[string]any{"v": "1"}); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, in.URL()+"/v1/secret/data/h", nil)
			req.Header.Set("X-Vault-Token", in.RootToken)
			req.Header.Set("User-Agent", "audit-headers-test/1")
			req.Header.Set("X-Request-Source", "pipeline-7")
			req.Header.Set("X-Not-Listed", "unlisted-value")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("read: %d", resp.StatusCode)
			}
			in.Server.Close()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), in.RootToken) || strings.Contains(string(raw), "unlisted-value") {
				t.Fatal("the log holds the token or an unlisted header")
			}
			var found int
			for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				var e struct {
					Type    string
					Request struct {
						Path    string
						Headers map[string][]string
					}
				}
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				if e.Request.Path != "secret/data/h" || !strings.Contains(line, `"operation":"read"`) {
					continue
				}
				found++
				want := map[string][]string(nil)
				if withHeaders {
					want = map[string][]string{"User-Agent": {"audit-headers-test/1"}, "X-Request-Source": {"pipeline-7"}}
				}
				if len(e.Request.Headers) != len(want) || (want != nil && (e.Request.Headers["User-Agent"][0] != want["User-Agent"][0] ||
					e.Request.Headers["X-Request-Source"][0] != want["X-Request-Source"][0])) {
					t.Fatalf("%s entry headers = %v, want %v", e.Type, e.Request.Headers, want)
				}
			}
			if found != 2 {
				t.Fatalf("found %d entries of the read, want its request and response", found)
			}
		})
	}
}
