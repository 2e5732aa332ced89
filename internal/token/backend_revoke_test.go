package token

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestAPIRevoke(t *testing.T) {
	ctx := context.Background()
	unknown := "hvs." + strings.Repeat("u", 24)
	tests := []struct {
		name string
		// run sends the request; it gets the api, the parent (raw, entry)
		// with one child, and returns the response.
		run         func(a *api, raw string, e *Entry) (*logical.Response, error)
		goneParent  bool
		goneChild   bool
		wantWarning string
	}{
		{name: "revoke", goneParent: true, goneChild: true, run: func(a *api, raw string, _ *Entry) (*logical.Response, error) {
			return a.asRoot(logical.UpdateOperation, "revoke", map[string]any{"token": raw})
		}},
		{name: "revoke unknown token", run: func(a *api, _ string, _ *Entry) (*logical.Response, error) {
			return a.asRoot(logical.UpdateOperation, "revoke", map[string]any{"token": unknown})
		}},
		{name: "revoke-self", goneParent: true, goneChild: true, run: func(a *api, raw string, e *Entry) (*logical.Response, error) {
			return a.call(logical.UpdateOperation, "revoke-self", raw, e, false, nil)
		}},
		{name: "revoke-accessor", goneParent: true, goneChild: true, run: func(a *api, _ string, e *Entry) (*logical.Response, error) {
			return a.asRoot(logical.UpdateOperation, "revoke-accessor", map[string]any{"accessor": e.Accessor})
		}},
		{name: "revoke-accessor unknown", wantWarning: "No token found with this accessor", run: func(a *api, _ string, _ *Entry) (*logical.Response, error) {
			return a.asRoot(logical.UpdateOperation, "revoke-accessor", map[string]any{"accessor": "Unknown1"})
		}},
		{name: "revoke-orphan with sudo", goneParent: true, run: func(a *api, raw string, e *Entry) (*logical.Response, error) {
			return a.call(logical.UpdateOperation, "revoke-orphan", raw, e, true, map[string]any{"token": raw})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t)
			raw, parent := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"p"}})
			_, child := mustCreate(t, a.Store, CreateParams{Parent: parent})
			resp, err := tt.run(a, raw, parent)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantWarning != "" {
				if resp == nil || len(resp.Warnings) != 1 || resp.Warnings[0] != tt.wantWarning || resp.NoContent {
					t.Fatalf("response = %+v, want warning %q", resp, tt.wantWarning)
				}
			} else if resp == nil || !resp.NoContent || resp.Data != nil {
				t.Fatalf("response = %+v, want 204", resp)
			}
			if _, err := a.Lookup(ctx, raw); errors.Is(err, ErrInvalidToken) != tt.goneParent {
				t.Errorf("parent lookup = %v, want gone=%v", err, tt.goneParent)
			}
			c, err := a.LookupAccessor(ctx, child.Accessor)
			if errors.Is(err, ErrInvalidToken) != tt.goneChild {
				t.Errorf("child lookup = %v, want gone=%v", err, tt.goneChild)
			}
			if err == nil && tt.goneParent && !c.Orphan {
				t.Errorf("surviving child is not an orphan: %+v", c)
			}
		})
	}
}

func TestAPIRevokeErrors(t *testing.T) {
	a := newAPI(t)
	raw, e := mustCreate(t, a.Store, CreateParams{Parent: a.root})
	for _, tt := range []struct {
		name, path string
		sudo       bool
		data       map[string]any
		kind       logical.Kind
		msg        string
	}{
		{"revoke-orphan needs sudo", "revoke-orphan", false, map[string]any{"token": raw}, logical.KindPermissionDenied, "permission denied"},
		{"revoke-orphan unknown", "revoke-orphan", true, map[string]any{"token": "hvs." + strings.Repeat("n", 24)}, logical.KindInvalidRequest, "token to revoke not found"},
		{"revoke-orphan missing token", "revoke-orphan", true, nil, logical.KindInvalidRequest, msgMissingToken},
		{"revoke missing token", "revoke", false, nil, logical.KindInvalidRequest, msgMissingToken},
		{"revoke-accessor missing accessor", "revoke-accessor", false, nil, logical.KindInvalidRequest, msgMissingAccessor},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.call(logical.UpdateOperation, tt.path, raw, e, tt.sudo, tt.data)
			assertKind(t, err, tt.kind, tt.msg)
		})
	}
	if _, err := a.Lookup(context.Background(), raw); err != nil {
		t.Errorf("a refused revocation revoked the token: %v", err)
	}
}

func TestAPIAccessors(t *testing.T) {
	a := newAPI(t)
	raw, e := mustCreate(t, a.Store, CreateParams{Parent: a.root})
	if _, err := a.call(logical.ListOperation, "accessors/", raw, e, false, nil); !errors.Is(err, logical.ErrPermissionDenied) {
		t.Fatalf("list without sudo = %v, want permission denied", err)
	}
	for _, path := range []string{"accessors", "accessors/"} {
		resp, err := a.call(logical.ListOperation, path, raw, e, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{a.root.Accessor, e.Accessor}
		if want[0] > want[1] {
			want[0], want[1] = want[1], want[0]
		}
		assertJSON(t, resp.Data, `{"keys":["`+want[0]+`","`+want[1]+`"]}`)
	}
}

func TestAPITidy(t *testing.T) {
	a := newAPI(t)
	if err := a.mem.Put(context.Background(), storageEntry(accessorKey("Dangling"), "f00")); err != nil {
		t.Fatal(err)
	}
	resp, err := a.asRoot(logical.UpdateOperation, "tidy", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], ": 1 dangling") {
		t.Fatalf("tidy response = %+v", resp)
	}
	if keys := a.mem.keys(accessorKey("Dangling")); len(keys) != 0 {
		t.Errorf("dangling accessor kept")
	}
}

// TestAPISelfPathsOnLastUse checks that a request spending a token's last
// use can still act on that token, while other lookups reject it.
func TestAPISelfPathsOnLastUse(t *testing.T) {
	ctx := context.Background()
	a := newAPI(t)
	raw, e := mustCreate(t, a.Store, CreateParams{Parent: a.root, NumUses: 1})
	if last, err := a.Use(ctx, e); !last || err != nil {
		t.Fatalf("Use = %v, %v", last, err)
	}
	if _, err := a.Lookup(ctx, raw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Lookup of a used-up token = %v", err)
	}
	resp, err := a.call(logical.ReadOperation, "lookup-self", raw, e, false, nil)
	if err != nil || resp.Data["accessor"] != e.Accessor {
		t.Fatalf("lookup-self on the last use = %+v, %v", resp, err)
	}
	if _, err := a.call(logical.UpdateOperation, "create", raw, e, false, nil); err == nil {
		t.Fatal("a used-up token created a child")
	}
	if _, err := a.call(logical.UpdateOperation, "revoke-self", raw, e, false, nil); err != nil {
		t.Fatal(err)
	}
	if keys := a.mem.keys(idKey(e.Hash)); len(keys) != 0 {
		t.Errorf("revoke-self left the entry")
	}
}
