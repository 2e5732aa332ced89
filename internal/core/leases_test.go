package core

import (
	"context"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// leasingFactory builds an engine whose creds/<name> read issues an
// hour-long lease and whose revocations are sent to revoked.
func leasingFactory(revoked chan<- string) logical.Factory {
	return func(context.Context, *logical.BackendConfig) (logical.Backend, error) {
		creds := func(_ context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
			name := d.String("name")
			return &logical.Response{Data: map[string]any{"user": name},
				Secret: &logical.Secret{TTL: time.Hour, Renewable: true, InternalData: map[string]any{"user": name}}}, nil
		}
		revoke := func(_ context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
			revoked <- req.Secret.InternalData["user"].(string)
			return nil, nil
		}
		return logical.NewRouter(&logical.Path{
			Pattern: "creds/(?P<name>[a-z]+)",
			Fields:  map[string]*logical.Field{"name": {Type: logical.TypeString}},
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation: creds, logical.RevokeOperation: revoke,
			},
		}), nil
	}
}

// TestBatchTokenLeasesFollowTheParent: a lease a batch token creates is
// revoked with the batch token's parent, as in Vault, since the batch
// token itself is never stored; an orphan batch token's lease is left to
// its TTL.
func TestBatchTokenLeasesFollowTheParent(t *testing.T) {
	revoked := make(chan string, 4)
	c, root := newUnsealedCore(t, Config{Physical: inmem.New(),
		Factories: map[string]logical.Factory{"cubbyhole": cubbyhole.Factory, "leasing": leasingFactory(revoked)}})
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/db", root, map[string]any{"type": "leasing"})
	mustDo(t, c, logical.UpdateOperation, "sys/policies/acl/creds", root, map[string]any{"policy": `
path "db/creds/*" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
path "auth/token/create-orphan" { capabilities = ["update", "sudo"] }`})
	parent := mustDo(t, c, logical.UpdateOperation, "auth/token/create", root,
		map[string]any{"policies": []any{"creds"}, "ttl": "1h"}).Auth.ClientToken
	batch := func(path string) string {
		return mustDo(t, c, logical.UpdateOperation, path, parent,
			map[string]any{"type": "batch", "policies": []any{"creds"}, "ttl": "30m"}).Auth.ClientToken
	}
	child, orphan := batch("auth/token/create"), batch("auth/token/create-orphan")
	if s := mustDo(t, c, logical.ReadOperation, "db/creds/child", child, nil).Secret; s == nil || s.LeaseID == "" {
		t.Fatal("no lease for the child batch token's read")
	}
	orphanLease := mustDo(t, c, logical.ReadOperation, "db/creds/orphan", orphan, nil).Secret.LeaseID

	mustDo(t, c, logical.UpdateOperation, "auth/token/revoke", root, map[string]any{"token": parent})
	select {
	case user := <-revoked:
		if user != "child" {
			t.Fatalf("revoking the parent revoked %q's lease; want the child batch token's", user)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("revoking the parent did not revoke the lease its batch token created")
	}
	select {
	case user := <-revoked:
		t.Fatalf("revoking the parent also revoked %q's lease", user)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := do(t, c, logical.UpdateOperation, "sys/leases/lookup", root, map[string]any{"lease_id": orphanLease}); err != nil {
		t.Fatalf("the orphan batch token's lease: %v", err)
	}
}
