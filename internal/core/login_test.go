package core

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// testAuthFactory builds an auth method whose login/<user> path accepts the
// password "pw" and returns the Auth described by the request's fields.
func testAuthFactory(ctx context.Context, cfg *logical.BackendConfig) (logical.Backend, error) {
	login := func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		if d.String("password") != "pw" {
			return nil, logical.InvalidRequest("invalid username or password")
		}
		user := d.String("user")
		return &logical.Response{Auth: &logical.Auth{
			Policies: d.Strings("policies"), DisplayName: user, Renewable: true,
			TTL: d.Duration("ttl"), MaxTTL: d.Duration("max_ttl"), TokenType: d.String("token_type"),
			Metadata: map[string]string{"user": user}, Alias: &logical.Alias{Name: user},
			GroupAliases: []*logical.Alias{{Name: "ops"}},
		}}, nil
	}
	return logical.NewRouter(&logical.Path{
		Pattern: "login/(?P<user>[a-z]+)", Unauthenticated: true, LoginIdentifier: "user",
		Fields: map[string]*logical.Field{
			"password": {Type: logical.TypeString}, "policies": {Type: logical.TypeStringSlice},
			"ttl": {Type: logical.TypeDuration}, "max_ttl": {Type: logical.TypeDuration},
			"token_type": {Type: logical.TypeString},
		},
		Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: login},
	}), nil
}

// recordingGuard locks a user out after two failures and records calls.
type recordingGuard struct {
	mu       sync.Mutex
	failures map[string]int
	calls    []string
}

func (g *recordingGuard) CheckLogin(acc, user string, ip netip.Addr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures[user] >= 2 {
		return errors.New("locked out")
	}
	return nil
}

func (g *recordingGuard) RecordLogin(acc, user string, ip netip.Addr, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, user+"@"+ip.String()+":"+map[bool]string{true: "ok", false: "fail"}[ok])
	if ok {
		delete(g.failures, user)
	} else {
		g.failures[user]++
	}
}

func newLoginCore(t *testing.T, guard NetworkGuard) (*Core, string) {
	t.Helper()
	return newLoginCoreOn(t, inmem.New(), guard)
}

// newLoginCoreOn is newLoginCore over the given physical storage.
func newLoginCoreOn(t *testing.T, phys storage.Backend, guard NetworkGuard) (*Core, string) {
	t.Helper()
	return newUnsealedCore(t, Config{Physical: phys, Network: guard,
		Factories:     map[string]logical.Factory{"cubbyhole": cubbyhole.Factory},
		AuthFactories: map[string]logical.Factory{"test": testAuthFactory}})
}

// newUnsealedCore builds a core from cfg, initializes it with one key share
// and unseals it; it returns the core and the root token.
func newUnsealedCore(t *testing.T, cfg Config) (*Core, string) {
	t.Helper()
	c, root, _ := newUnsealedCoreKey(t, cfg)
	return c, root
}

// newUnsealedCoreKey is newUnsealedCore that also returns the unseal key.
func newUnsealedCoreKey(t *testing.T, cfg Config) (*Core, string, []byte) {
	t.Helper()
	ctx := context.Background()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Initialize(ctx, InitParams{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unseal(ctx, res.Keys[0]); err != nil {
		t.Fatal(err)
	}
	return c, res.RootToken, res.Keys[0]
}

func do(t *testing.T, c *Core, op logical.Operation, path, tok string, data map[string]any) (*logical.Response, error) {
	t.Helper()
	return c.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, ClientToken: tok, Data: data, RemoteAddr: "127.0.0.5"})
}

func mustDo(t *testing.T, c *Core, op logical.Operation, path, tok string, data map[string]any) *logical.Response {
	t.Helper()
	resp, err := do(t, c, op, path, tok, data)
	if err != nil {
		t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

func TestLoginIssuesTokenWithIdentity(t *testing.T) {
	c, root := newLoginCore(t, nil)
	mustDo(t, c, logical.UpdateOperation, "sys/auth/people", root, map[string]any{"type": "test", "config": map[string]any{"max_lease_ttl": "2h"}})
	mustDo(t, c, logical.UpdateOperation, "sys/policy/kv-read", root, map[string]any{"policy": `path "secret/*" { capabilities = ["read"] }`})
	mustDo(t, c, logical.UpdateOperation, "sys/policy/ops", root, map[string]any{"policy": `path "sys/mounts" { capabilities = ["read"] }`})

	resp, err := do(t, c, logical.UpdateOperation, "auth/people/login/alice", "", map[string]any{"password": "pw", "policies": []string{"kv-read"}, "ttl": "5h"})
	if err != nil {
		t.Fatal(err)
	}
	a := resp.Auth
	if !strings.HasPrefix(a.ClientToken, "hvs.") || a.Accessor == "" || a.EntityID == "" {
		t.Fatalf("auth = %+v; want a service token with accessor and entity", a)
	}
	if a.TTL != 2*time.Hour {
		t.Errorf("TTL = %s; want the mount's max 2h", a.TTL)
	}
	if !slices.Equal(a.TokenPolicies, []string{"default", "kv-read"}) {
		t.Errorf("token policies = %v", a.TokenPolicies)
	}
	look := mustDo(t, c, logical.ReadOperation, "auth/token/lookup-self", a.ClientToken, nil)
	if look.Data["display_name"] != "people-alice" || look.Data["entity_id"] != a.EntityID {
		t.Errorf("lookup-self = %v", look.Data)
	}
	if _, err := do(t, c, logical.ReadOperation, "sys/mounts", a.ClientToken, nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("sys/mounts before group policy: %v; want permission denied", err)
	}

	// An external group mapped from the login's group alias grants "ops"
	// to the entity's existing tokens on their next request.
	acc := mountAccessor(t, c, root, "auth/people/")
	g := mustDo(t, c, logical.UpdateOperation, "identity/group", root, map[string]any{"name": "ops", "type": "external", "policies": []string{"ops"}})
	mustDo(t, c, logical.UpdateOperation, "identity/group-alias", root, map[string]any{"name": "ops", "mount_accessor": acc, "canonical_id": g.Data["id"]})
	second := mustDo(t, c, logical.UpdateOperation, "auth/people/login/alice", "", map[string]any{"password": "pw"}).Auth
	if second.EntityID != a.EntityID {
		t.Fatalf("second login entity %s; want %s", second.EntityID, a.EntityID)
	}
	if !slices.Contains(second.IdentityPolicies, "ops") || !slices.Contains(second.Policies, "ops") {
		t.Errorf("second login policies = %v / identity %v; want ops", second.Policies, second.IdentityPolicies)
	}
	if _, err := do(t, c, logical.ReadOperation, "sys/mounts", a.ClientToken, nil); err != nil {
		t.Errorf("sys/mounts with group policy: %v", err)
	}

	// Disabling the method revokes its tokens.
	mustDo(t, c, logical.DeleteOperation, "sys/auth/people", root, nil)
	if _, err := do(t, c, logical.ReadOperation, "auth/token/lookup-self", a.ClientToken, nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Errorf("token of a disabled method still works: %v", err)
	}
}

func mountAccessor(t *testing.T, c *Core, root, path string) string {
	t.Helper()
	resp := mustDo(t, c, logical.ReadOperation, "sys/auth", root, nil)
	info, ok := resp.Data[strings.TrimPrefix(path, "auth/")].(map[string]any)
	if !ok {
		t.Fatalf("sys/auth has no %s: %v", path, resp.Data)
	}
	return info["accessor"].(string)
}

func TestLoginTokenType(t *testing.T) {
	c, root := newLoginCore(t, nil)
	mustDo(t, c, logical.UpdateOperation, "sys/auth/b", root, map[string]any{"type": "test", "config": map[string]any{"token_type": "default-batch"}})
	mustDo(t, c, logical.UpdateOperation, "sys/auth/s", root, map[string]any{"type": "test", "config": map[string]any{"token_type": "service"}})
	for _, tc := range []struct {
		mount, role, want string
	}{
		{"b", "", "batch"}, {"b", "service", "service"}, {"s", "", "service"}, {"s", "batch", ""},
	} {
		resp, err := do(t, c, logical.UpdateOperation, "auth/"+tc.mount+"/login/bob", "", map[string]any{"password": "pw", "token_type": tc.role})
		if tc.want == "" {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Errorf("%s/%q: %v; want invalid request", tc.mount, tc.role, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s/%q: %v", tc.mount, tc.role, err)
		}
		if resp.Auth.TokenType != tc.want {
			t.Errorf("%s/%q: type %s; want %s", tc.mount, tc.role, resp.Auth.TokenType, tc.want)
		}
		wantPrefix := map[string]string{"batch": "hvb.", "service": "hvs."}[tc.want]
		if !strings.HasPrefix(resp.Auth.ClientToken, wantPrefix) {
			t.Errorf("%s/%q: token prefix of %q; want %s", tc.mount, tc.role, resp.Auth.ClientToken[:4], wantPrefix)
		}
		if _, err := do(t, c, logical.ReadOperation, "auth/token/lookup-self", resp.Auth.ClientToken, nil); err != nil {
			t.Errorf("%s/%q: lookup-self: %v", tc.mount, tc.role, err)
		}
	}
	if _, err := do(t, c, logical.UpdateOperation, "sys/auth/b/tune", root, map[string]any{"token_type": "sometimes"}); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Errorf("bad token_type tune: %v", err)
	}
}

func TestLoginGuard(t *testing.T) {
	g := &recordingGuard{failures: map[string]int{}}
	c, root := newLoginCore(t, g)
	mustDo(t, c, logical.UpdateOperation, "sys/auth/people", root, map[string]any{"type": "test"})
	for range 2 {
		if _, err := do(t, c, logical.UpdateOperation, "auth/people/login/carol", "", map[string]any{"password": "wrong"}); logical.KindOf(err) != logical.KindInvalidRequest {
			t.Fatalf("bad password: %v", err)
		}
	}
	if _, err := do(t, c, logical.UpdateOperation, "auth/people/login/carol", "", map[string]any{"password": "pw"}); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("locked-out login with the right password: %v; want permission denied", err)
	}
	if _, err := do(t, c, logical.UpdateOperation, "auth/people/login/dave", "", map[string]any{"password": "pw"}); err != nil {
		t.Fatalf("another user: %v", err)
	}
	want := []string{"carol@127.0.0.5:fail", "carol@127.0.0.5:fail", "dave@127.0.0.5:ok"}
	if !slices.Equal(g.calls, want) {
		t.Errorf("guard calls = %v; want %v", g.calls, want)
	}
}

func TestAuthMountValidation(t *testing.T) {
	c, root := newLoginCore(t, nil)
	for _, tc := range []struct {
		path string
		data map[string]any
	}{
		{"sys/auth/x", map[string]any{"type": "kv"}},
		{"sys/auth/x", map[string]any{"type": "token"}},
		{"sys/auth/x", map[string]any{"type": "test", "config": map[string]any{"token_type": "both"}}},
		{"sys/auth/a b", map[string]any{"type": "test"}},
		{"sys/mounts/kv", map[string]any{"type": "test"}},
	} {
		if _, err := do(t, c, logical.UpdateOperation, tc.path, root, tc.data); logical.KindOf(err) != logical.KindInvalidRequest {
			t.Errorf("%s %v: %v; want invalid request", tc.path, tc.data, err)
		}
	}
	mustDo(t, c, logical.UpdateOperation, "sys/auth/people", root, map[string]any{"type": "test"})
	if _, err := do(t, c, logical.UpdateOperation, "sys/auth/people", root, map[string]any{"type": "test"}); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Errorf("second enable at the same path: %v", err)
	}
	// A login path needs no token; other paths of the method do.
	if _, err := do(t, c, logical.UpdateOperation, "auth/people/login/erin", "", map[string]any{"password": "pw"}); err != nil {
		t.Errorf("login without a token: %v", err)
	}
	if _, err := do(t, c, logical.ReadOperation, "auth/people/config", "", nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Errorf("non-login path without a token: %v; want permission denied", err)
	}
}

// countingBackend counts the writes that reach physical storage.
type countingBackend struct {
	storage.Backend
	writes atomic.Int64
}

func (b *countingBackend) Put(ctx context.Context, e *storage.Entry) error {
	b.writes.Add(1)
	return b.Backend.Put(ctx, e)
}

func (b *countingBackend) Delete(ctx context.Context, key string) error {
	b.writes.Add(1)
	return b.Backend.Delete(ctx, key)
}

func (b *countingBackend) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	b.writes.Add(1)
	return b.Backend.Transaction(ctx, ops)
}

// TestBatchLoginsWriteNothing checks DESIGN.md §5's promise: once an
// entity exists, batch-token logins write nothing to storage, and the
// tokens they issue work.
func TestBatchLoginsWriteNothing(t *testing.T) {
	phys := &countingBackend{Backend: inmem.New()}
	c, root := newLoginCoreOn(t, phys, nil)
	mustDo(t, c, logical.UpdateOperation, "sys/auth/machines", root, map[string]any{"type": "test", "config": map[string]any{"token_type": "batch"}})
	login := map[string]any{"password": "pw"}
	mustDo(t, c, logical.UpdateOperation, "auth/machines/login/robot", "", login) // creates the entity
	before := phys.writes.Load()
	for range 20 {
		a := mustDo(t, c, logical.UpdateOperation, "auth/machines/login/robot", "", login).Auth
		if !strings.HasPrefix(a.ClientToken, "hvb.") {
			t.Fatalf("token %q is not a batch token", a.ClientToken[:4])
		}
		if _, err := do(t, c, logical.ReadOperation, "auth/token/lookup-self", a.ClientToken, nil); err != nil {
			t.Fatalf("batch token does not work: %v", err)
		}
	}
	if n := phys.writes.Load() - before; n != 0 {
		t.Errorf("20 batch logins wrote to storage %d times; want 0", n)
	}
}
