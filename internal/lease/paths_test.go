package lease

import (
	"context"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestPaths(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	r := logical.NewRouter(h.mgr.Paths()...)
	id := h.register(t, "db/", "creds/r", "", time.Hour)
	id2 := h.register(t, "db/", "creds/r", "", time.Hour)
	id3 := h.register(t, "db/", "creds/w", "", time.Hour)
	sudo := &logical.Caller{Sudo: true}
	plain := &logical.Caller{}
	tests := []struct {
		name     string
		op       logical.Operation
		path     string
		data     map[string]any
		caller   *logical.Caller
		wantKind logical.Kind
		check    func(t *testing.T, resp *logical.Response)
	}{
		{name: "lookup", op: logical.UpdateOperation, path: "leases/lookup", data: map[string]any{"lease_id": id},
			check: func(t *testing.T, resp *logical.Response) {
				if resp.Data["id"] != id || resp.Data["ttl"] != int64(3600) || resp.Data["last_renewal"] != nil || resp.Data["renewable"] != true {
					t.Fatalf("lookup data = %v", resp.Data)
				}
			}},
		{name: "lookup unknown", op: logical.UpdateOperation, path: "leases/lookup", data: map[string]any{"lease_id": "db/x/y"},
			wantKind: logical.KindInvalidRequest},
		{name: "lookup missing id", op: logical.UpdateOperation, path: "leases/lookup", wantKind: logical.KindInvalidRequest},
		{name: "list", op: logical.ListOperation, path: "leases/lookup/db/creds/", caller: sudo,
			check: func(t *testing.T, resp *logical.Response) {
				if keys := resp.Data["keys"].([]string); len(keys) != 2 || keys[0] != "r/" || keys[1] != "w/" {
					t.Fatalf("keys = %v", keys)
				}
			}},
		{name: "list without sudo", op: logical.ListOperation, path: "leases/lookup/db/", caller: plain,
			wantKind: logical.KindPermissionDenied},
		{name: "renew", op: logical.UpdateOperation, path: "leases/renew", data: map[string]any{"lease_id": id, "increment": "2h"},
			check: func(t *testing.T, resp *logical.Response) {
				if resp.Secret == nil || resp.Secret.LeaseID != id || resp.Secret.TTL != 2*time.Hour || resp.Data != nil {
					t.Fatalf("renew response = %+v", resp)
				}
			}},
		{name: "legacy renew in url", op: logical.UpdateOperation, path: "renew/" + id, data: map[string]any{"increment": 60},
			check: func(t *testing.T, resp *logical.Response) {
				if resp.Secret.TTL != time.Minute {
					t.Fatalf("ttl = %v", resp.Secret.TTL)
				}
			}},
		{name: "revoke", op: logical.UpdateOperation, path: "leases/revoke", data: map[string]any{"lease_id": id},
			check: func(t *testing.T, resp *logical.Response) {
				if !resp.NoContent {
					t.Fatal("revoke did not answer 204")
				}
				if _, err := h.mgr.Lookup(ctx, id); err == nil {
					t.Fatal("lease still there")
				}
			}},
		{name: "revoke-prefix without sudo", op: logical.UpdateOperation, path: "leases/revoke-prefix/db/creds/r", caller: plain,
			wantKind: logical.KindPermissionDenied},
		{name: "legacy revoke-prefix", op: logical.UpdateOperation, path: "revoke-prefix/db/creds/r", caller: sudo,
			check: func(t *testing.T, resp *logical.Response) {
				if _, err := h.mgr.Lookup(ctx, id2); err == nil {
					t.Fatal("lease under prefix still there")
				}
				if _, err := h.mgr.Lookup(ctx, id3); err != nil {
					t.Fatal("lease outside prefix revoked")
				}
			}},
		{name: "revoke-force", op: logical.UpdateOperation, path: "leases/revoke-force/db/", caller: sudo,
			check: func(t *testing.T, resp *logical.Response) {
				if _, err := h.mgr.Lookup(ctx, id3); err == nil {
					t.Fatal("lease still there")
				}
			}},
		{name: "tidy", op: logical.UpdateOperation, path: "leases/tidy"},
		{name: "irrevocable", op: logical.ReadOperation, path: "leases", data: map[string]any{"type": "irrevocable"},
			check: func(t *testing.T, resp *logical.Response) {
				if resp.Data["lease_count"] != 0 {
					t.Fatalf("data = %v", resp.Data)
				}
			}},
		{name: "irrevocable bad type", op: logical.ReadOperation, path: "leases", wantKind: logical.KindInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := r.HandleRequest(ctx, &logical.Request{Operation: tc.op, Path: tc.path, Data: tc.data, Caller: tc.caller})
			if tc.wantKind != logical.KindInternal {
				if err == nil || logical.KindOf(err) != tc.wantKind {
					t.Fatalf("err = %v, want kind %v", err, tc.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, resp)
			}
		})
	}
}
