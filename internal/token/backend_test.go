package token

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// api drives the backend as the core would.
type api struct {
	*testStore
	b       logical.Backend
	rootRaw string
	root    *Entry
	// roles is the mount's own storage, where token roles live.
	roles *memBackend
}

func newAPI(t testing.TB) *api {
	t.Helper()
	ts := newTestStore(t)
	raw, root := mustCreate(t, ts.Store, rootParams())
	return &api{testStore: ts, b: NewBackend(ts.Store), rootRaw: raw, root: root, roles: newMemBackend()}
}

// caller is what the core would put in req.Caller for e.
func caller(e *Entry, sudo bool) *logical.Caller {
	return &logical.Caller{
		Accessor: e.Accessor, DisplayName: e.DisplayName, Policies: e.Policies,
		EntityID: e.EntityID, TokenType: e.Type, Root: slices.Contains(e.Policies, "root"), Sudo: sudo,
	}
}

// call sends a request as the token raw (whose entry is e).
func (a *api) call(op logical.Operation, path, raw string, e *Entry, sudo bool, data map[string]any) (*logical.Response, error) {
	return a.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, MountPoint: "auth/token/", Data: data,
		ClientToken: raw, Caller: caller(e, sudo), Storage: a.roles,
	})
}

// asRoot sends a request as the root token.
func (a *api) asRoot(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return a.call(op, path, a.rootRaw, a.root, false, data)
}

// authJSON renders an Auth under Vault's JSON names.
func authJSON(a *logical.Auth) map[string]any {
	return map[string]any{
		"client_token": a.ClientToken, "accessor": a.Accessor, "policies": a.Policies,
		"token_policies": a.TokenPolicies, "metadata": a.Metadata,
		"lease_duration": int64(a.TTL / time.Second), "renewable": a.Renewable,
		"entity_id": a.EntityID, "token_type": a.TokenType, "orphan": a.Orphan, "num_uses": a.NumUses,
	}
}

// assertJSON compares got, marshalled, with the JSON document want.
func assertJSON(t *testing.T, got any, want string) {
	t.Helper()
	gb, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(gb, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", gb, want)
	}
}

// assertKind checks err is a logical error of kind with msg.
func assertKind(t *testing.T, err error, kind logical.Kind, msg string) {
	t.Helper()
	var le *logical.Error
	if !errors.As(err, &le) || le.Kind != kind || le.Msg != msg {
		t.Fatalf("error = %#v, want kind %d %q", err, kind, msg)
	}
}

// fill replaces {{name}} in s.
func fill(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

func TestAPICreateResponse(t *testing.T) {
	a := newAPI(t)
	resp, err := a.asRoot(logical.UpdateOperation, "create", map[string]any{
		"policies": []any{"b", "a"}, "meta": map[string]any{"team": "x"}, "ttl": "1h",
		"display_name": "CI bot!", "num_uses": 0, "renewable": true, "type": "", "entity_alias": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := a.Lookup(context.Background(), resp.Auth.ClientToken)
	if err != nil {
		t.Fatalf("created token does not look up: %v", err)
	}
	assertJSON(t, authJSON(resp.Auth), fill(`{"client_token":"{{tok}}","accessor":"{{acc}}",
		"policies":["a","b","default"],"token_policies":["a","b","default"],"metadata":{"team":"x"},
		"lease_duration":3600,"renewable":true,"entity_id":"","token_type":"service","orphan":false,"num_uses":0}`,
		map[string]string{"tok": resp.Auth.ClientToken, "acc": e.Accessor}))
	if e.DisplayName != "token-CI-bot" || e.Path != "auth/token/create" || e.Parent != a.root.Hash {
		t.Errorf("entry = %+v", e)
	}
}

func TestAPICreateRules(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	devRaw, dev := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev", "ops"}})
	limRaw, lim := mustCreate(t, a.Store, CreateParams{Parent: a.root, NumUses: 3})
	tests := []struct {
		name     string
		path     string
		raw      string
		e        *Entry
		sudo     bool
		data     map[string]any
		wantErr  string
		policies []string
		orphan   bool
		ttl      int64
	}{
		{name: "root inherits root, never expires", path: "create", raw: a.rootRaw, e: a.root, policies: []string{"root"}},
		{name: "inherit parent's policies", path: "create", raw: devRaw, e: dev, policies: []string{"default", "dev", "ops"}, ttl: 2764800},
		{name: "subset allowed", path: "create", raw: devRaw, e: dev, data: map[string]any{"policies": "ops"}, policies: []string{"default", "ops"}, ttl: 2764800},
		{name: "no default policy", path: "create", raw: devRaw, e: dev, data: map[string]any{"policies": "ops", "no_default_policy": true}, policies: []string{"ops"}, ttl: 2764800},
		{name: "superset refused", path: "create", raw: devRaw, e: dev, data: map[string]any{"policies": []any{"ops", "admin"}}, wantErr: "child policies must be subset of parent"},
		{name: "sudo may grant others", path: "create", raw: devRaw, e: dev, sudo: true, data: map[string]any{"policies": "admin"}, policies: []string{"admin", "default"}, ttl: 2764800},
		{name: "root only by root", path: "create", raw: devRaw, e: dev, sudo: true, data: map[string]any{"policies": "root"}, wantErr: "root tokens may not be created without parent token being root"},
		{name: "internal policy", path: "create", raw: a.rootRaw, e: a.root, data: map[string]any{"policies": "response-wrapping"}, wantErr: `cannot assign policy "response-wrapping"`},
		{name: "no_parent needs sudo", path: "create", raw: devRaw, e: dev, data: map[string]any{"no_parent": true}, wantErr: "root or sudo privileges required to create orphan token"},
		{name: "no_parent with sudo", path: "create", raw: devRaw, e: dev, sudo: true, data: map[string]any{"no_parent": true, "ttl": 60}, policies: []string{"default", "dev", "ops"}, orphan: true, ttl: 60},
		{name: "create-orphan without sudo", path: "create-orphan", raw: devRaw, e: dev, data: map[string]any{"ttl": "2m"}, policies: []string{"default", "dev", "ops"}, orphan: true, ttl: 120},
		{name: "period needs sudo", path: "create", raw: devRaw, e: dev, data: map[string]any{"period": "1h"}, wantErr: "root or sudo privileges required to create periodic token"},
		{name: "period with sudo", path: "create", raw: devRaw, e: dev, sudo: true, data: map[string]any{"period": "1h", "ttl": "5h"}, policies: []string{"default", "dev", "ops"}, ttl: 3600},
		{name: "explicit max caps ttl", path: "create", raw: devRaw, e: dev, data: map[string]any{"ttl": "5h", "explicit_max_ttl": "1h"}, policies: []string{"default", "dev", "ops"}, ttl: 3600},
		{name: "lease alias", path: "create", raw: devRaw, e: dev, data: map[string]any{"lease": "30m"}, policies: []string{"default", "dev", "ops"}, ttl: 1800},
		{name: "batch root refused", path: "create", raw: a.rootRaw, e: a.root, data: map[string]any{"type": "batch"}, wantErr: "batch tokens cannot be root tokens"},
		{name: "unknown type", path: "create", raw: a.rootRaw, e: a.root, data: map[string]any{"type": "weird"}, wantErr: "invalid 'token_type' value"},
		{name: "custom id refused", path: "create", raw: a.rootRaw, e: a.root, data: map[string]any{"id": "root"}, wantErr: "custom token ids are not supported"},
		{name: "entity alias needs a role", path: "create", raw: a.rootRaw, e: a.root, data: map[string]any{"entity_alias": "bob"}, wantErr: "'entity_alias' is only allowed in combination with token role"},
		{name: "negative uses", path: "create", raw: a.rootRaw, e: a.root, data: map[string]any{"num_uses": -1}, wantErr: "number of uses cannot be negative"},
		{name: "restricted parent", path: "create", raw: limRaw, e: lim, wantErr: "restricted use token cannot generate child tokens"},
		{name: "unknown role", path: "create/web", raw: a.rootRaw, e: a.root, wantErr: "unknown role web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := a.call(logical.UpdateOperation, tt.path, tt.raw, tt.e, tt.sudo, tt.data)
			if tt.wantErr != "" {
				assertKind(t, err, logical.KindInvalidRequest, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := resp.Auth
			if !reflect.DeepEqual(got.Policies, tt.policies) || got.Orphan != tt.orphan || int64(got.TTL/time.Second) != tt.ttl {
				t.Fatalf("auth = policies %v orphan %v ttl %v; want %v %v %d", got.Policies, got.Orphan, got.TTL, tt.policies, tt.orphan, tt.ttl)
			}
			e, err := a.Lookup(ctx, got.ClientToken)
			if err != nil || (e.Parent == "") != tt.orphan || e.Path != "auth/token/"+tt.path {
				t.Fatalf("stored entry = %+v, %v", e, err)
			}
		})
	}
}

func TestAPICreateUnauthenticated(t *testing.T) {
	a := newAPI(t)
	_, err := a.b.HandleRequest(context.Background(), &logical.Request{Operation: logical.UpdateOperation, Path: "create"})
	if !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("create without caller = %v, want permission denied", err)
	}
}

const lookupWant = `{"accessor":"{{acc}}","creation_time":1740830400,"creation_ttl":3600,
	"display_name":"token-app","entity_id":"ent","expire_time":"2025-03-01T13:00:00Z",
	"explicit_max_ttl":7200,"id":"{{id}}","issue_time":"2025-03-01T12:00:00Z","meta":{"k":"v"},
	"num_uses":0,"orphan":false,"path":"auth/token/create","policies":["app","default"],
	"renewable":true,"ttl":3000,"type":"service","bound_cidrs":["10.0.0.0/8","192.0.2.7"]}`

func TestAPILookups(t *testing.T) {
	a := newAPI(t)
	raw, e := mustCreate(t, a.Store, CreateParams{
		Parent: a.root, Policies: []string{"app"}, Meta: map[string]string{"k": "v"}, DisplayName: "token-app",
		TTL: time.Hour, ExplicitMaxTTL: 2 * time.Hour, EntityID: "ent",
		BoundCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")},
	})
	a.clock.Advance(10 * time.Minute)
	for _, tt := range []struct {
		name, path, raw string
		e               *Entry
		op              logical.Operation
		data            map[string]any
		id              string
	}{
		{"lookup", "lookup", a.rootRaw, a.root, logical.UpdateOperation, map[string]any{"token": raw}, raw},
		{"lookup without token is self", "lookup", raw, e, logical.UpdateOperation, nil, raw},
		{"lookup-self GET", "lookup-self", raw, e, logical.ReadOperation, nil, raw},
		{"lookup-self POST", "lookup-self", raw, e, logical.UpdateOperation, nil, raw},
		{"lookup-self by accessor", "lookup-self", "", e, logical.ReadOperation, nil, ""},
		{"lookup-accessor", "lookup-accessor", a.rootRaw, a.root, logical.UpdateOperation, map[string]any{"accessor": e.Accessor}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := a.call(tt.op, tt.path, tt.raw, tt.e, false, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, resp.Data, fill(lookupWant, map[string]string{"acc": e.Accessor, "id": tt.id}))
		})
	}
}

func TestAPILookupRoot(t *testing.T) {
	a := newAPI(t)
	resp, err := a.asRoot(logical.ReadOperation, "lookup-self", nil)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, resp.Data, fill(`{"accessor":"{{acc}}","creation_time":1740830400,"creation_ttl":0,
		"display_name":"root","entity_id":"","expire_time":null,"explicit_max_ttl":0,"id":"{{id}}",
		"meta":null,"num_uses":0,"orphan":true,"path":"auth/token/root","policies":["root"],
		"ttl":0,"type":"service"}`, map[string]string{"acc": a.root.Accessor, "id": a.rootRaw}))
}

func TestAPILookupErrors(t *testing.T) {
	a := newAPI(t)
	for _, tt := range []struct {
		name, path string
		op         logical.Operation
		data       map[string]any
		kind       logical.Kind
		msg        string
	}{
		{"unknown token", "lookup", logical.UpdateOperation, map[string]any{"token": "hvs." + strings.Repeat("x", 24)}, logical.KindPermissionDenied, msgBadToken},
		{"malformed token", "lookup", logical.UpdateOperation, map[string]any{"token": "garbage"}, logical.KindPermissionDenied, msgBadToken},
		{"unknown accessor", "lookup-accessor", logical.UpdateOperation, map[string]any{"accessor": "nope"}, logical.KindInvalidRequest, msgInvalidAccessor},
		{"missing accessor", "lookup-accessor", logical.UpdateOperation, nil, logical.KindInvalidRequest, msgMissingAccessor},
		{"GET lookup", "lookup", logical.ReadOperation, nil, logical.KindUnsupportedOperation, `unsupported operation "read" on "lookup"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.asRoot(tt.op, tt.path, tt.data)
			assertKind(t, err, tt.kind, tt.msg)
		})
	}
}

func TestAPIRenew(t *testing.T) {
	a := newAPI(t)
	raw, e := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"app"}, TTL: time.Hour})
	_, fixed := mustCreate(t, a.Store, CreateParams{Parent: a.root, TTL: time.Hour, Renewable: boolPtr(false)})
	want := `{"client_token":"{{tok}}","accessor":"{{acc}}","policies":["app","default"],
		"token_policies":["app","default"],"metadata":null,"lease_duration":{{ttl}},"renewable":true,
		"entity_id":"","token_type":"service","orphan":false,"num_uses":0}`
	for _, tt := range []struct {
		name, path, raw string
		e               *Entry
		data            map[string]any
		tok, ttl        string
	}{
		{"renew", "renew", a.rootRaw, a.root, map[string]any{"token": raw, "increment": "2h"}, raw, "7200"},
		{"renew-self", "renew-self", raw, e, map[string]any{"increment": 600}, raw, "600"},
		{"renew-self default increment", "renew-self", raw, e, nil, raw, "3600"},
		{"renew-accessor", "renew-accessor", a.rootRaw, a.root, map[string]any{"accessor": e.Accessor, "increment": "90m"}, "", "5400"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.clock.Advance(5 * time.Minute)
			resp, err := a.call(logical.UpdateOperation, tt.path, tt.raw, tt.e, false, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, authJSON(resp.Auth), fill(want, map[string]string{"tok": tt.tok, "acc": e.Accessor, "ttl": tt.ttl}))
		})
	}
	for _, tt := range []struct {
		name, path string
		data       map[string]any
		msg        string
	}{
		{"not renewable", "renew-accessor", map[string]any{"accessor": fixed.Accessor}, "lease is not renewable"},
		{"root not renewable", "renew-self", nil, "lease is not renewable"},
		{"unknown token", "renew", map[string]any{"token": "hvs." + strings.Repeat("q", 24)}, msgTokenNotFound},
		{"missing token", "renew", nil, msgMissingToken},
		{"unknown accessor", "renew-accessor", map[string]any{"accessor": "zz"}, msgInvalidAccessor},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.asRoot(logical.UpdateOperation, tt.path, tt.data)
			assertKind(t, err, logical.KindInvalidRequest, tt.msg)
		})
	}
}
