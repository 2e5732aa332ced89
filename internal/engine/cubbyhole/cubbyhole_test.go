package cubbyhole

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func newBackend(t *testing.T) (logical.Backend, storage.Backend) {
	t.Helper()
	b, err := Factory(context.Background(), &logical.BackendConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return b, inmem.New()
}

func call(b logical.Backend, s storage.Backend, id string, op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	req := &logical.Request{Operation: op, Path: path, Data: data, Storage: s}
	if id != "-" {
		req.Caller = &logical.Caller{CubbyholeID: id}
	}
	return b.HandleRequest(context.Background(), req)
}

func dataJSON(t *testing.T, resp *logical.Response) string {
	t.Helper()
	if resp == nil {
		return "null"
	}
	b, err := json.Marshal(resp.Data)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrefix(t *testing.T) {
	if got := Prefix("abc"); got != "abc/" {
		t.Fatalf("Prefix = %q", got)
	}
}

func TestFactoryNilConfig(t *testing.T) {
	if _, err := Factory(context.Background(), nil); err == nil {
		t.Fatal("nil config accepted")
	}
}

// step is one request of TestCubbyholeOperations and its expected outcome;
// want is the response data as JSON, or "204" for a bare NoContent.
type step struct {
	name     string
	id       string
	op       logical.Operation
	path     string
	data     map[string]any
	want     string
	wantKind logical.Kind
	wantErr  bool
}

// operationSteps exercises two tokens' cubbyholes in turn.
func operationSteps() []step {
	return []step{
		{name: "write", id: "t1", op: logical.CreateOperation, path: "app/k", data: map[string]any{"pw": "one", "path": "p"}, want: "204"},
		{name: "read own", id: "t1", op: logical.ReadOperation, path: "app/k", want: `{"path":"p","pw":"one"}`},
		{name: "other token cannot read", id: "t2", op: logical.ReadOperation, path: "app/k", want: "null"},
		{name: "other token writes same path", id: "t2", op: logical.UpdateOperation, path: "app/k", data: map[string]any{"pw": "two"}, want: "204"},
		{name: "own value unchanged", id: "t1", op: logical.ReadOperation, path: "app/k", want: `{"path":"p","pw":"one"}`},
		{name: "other value", id: "t2", op: logical.ReadOperation, path: "app/k", want: `{"pw":"two"}`},
		{name: "whole replace", id: "t1", op: logical.UpdateOperation, path: "app/k", data: map[string]any{"x": "y"}, want: "204"},
		{name: "read replaced", id: "t1", op: logical.ReadOperation, path: "app/k", want: `{"x":"y"}`},
		{name: "write second", id: "t1", op: logical.UpdateOperation, path: "app/sub/k2", data: map[string]any{"a": "b"}, want: "204"},
		{name: "list root", id: "t1", op: logical.ListOperation, path: "", want: `{"keys":["app/"]}`},
		{name: "list folder", id: "t1", op: logical.ListOperation, path: "app/", want: `{"keys":["k","sub/"]}`},
		{name: "list folder without slash", id: "t1", op: logical.ListOperation, path: "app", want: `{"keys":["k","sub/"]}`},
		{name: "other token lists own only", id: "t2", op: logical.ListOperation, path: "app", want: `{"keys":["k"]}`},
		{name: "empty list", id: "t3", op: logical.ListOperation, path: "", want: "null"},
		{name: "delete", id: "t1", op: logical.DeleteOperation, path: "app/k", want: "204"},
		{name: "deleted", id: "t1", op: logical.ReadOperation, path: "app/k", want: "null"},
		{name: "other token's survives delete", id: "t2", op: logical.ReadOperation, path: "app/k", want: `{"pw":"two"}`},
		{name: "empty body", id: "t1", op: logical.UpdateOperation, path: "k", data: map[string]any{}, wantErr: true, wantKind: logical.KindInvalidRequest},
		{name: "dot dot", id: "t1", op: logical.ReadOperation, path: "../t2/app/k", wantErr: true, wantKind: logical.KindInvalidRequest},
		{name: "empty segment", id: "t1", op: logical.ReadOperation, path: "app//k", wantErr: true, wantKind: logical.KindInvalidRequest},
		{name: "no caller", id: "-", op: logical.ReadOperation, path: "app/k", wantErr: true, wantKind: logical.KindPermissionDenied},
		{name: "empty id", id: "", op: logical.UpdateOperation, path: "app/k", data: map[string]any{"a": "b"}, wantErr: true, wantKind: logical.KindPermissionDenied},
		{name: "id with slash", id: "t2/app", op: logical.ReadOperation, path: "k", wantErr: true, wantKind: logical.KindPermissionDenied},
		{name: "no caller list", id: "-", op: logical.ListOperation, path: "", wantErr: true, wantKind: logical.KindPermissionDenied},
	}
}

func TestCubbyholeOperations(t *testing.T) {
	b, s := newBackend(t)
	steps := operationSteps()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			resp, err := call(b, s, st.id, st.op, st.path, st.data)
			if st.wantErr {
				if err == nil || logical.KindOf(err) != st.wantKind {
					t.Fatalf("err = %v (kind %d), want kind %d", err, logical.KindOf(err), st.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.want == "204" {
				if resp == nil || !resp.NoContent || resp.Data != nil || len(resp.Warnings) > 0 {
					t.Fatalf("got %+v, want a 204 (NoContent) response", resp)
				}
				return
			}
			if got := dataJSON(t, resp); got != st.want {
				t.Fatalf("got %s, want %s", got, st.want)
			}
		})
	}
	// Everything lives under the owners' prefixes, so a prefix delete
	// erases exactly one token's cubbyhole.
	for _, k := range storedKeys(t, s) {
		if !strings.HasPrefix(k, Prefix("t1")) && !strings.HasPrefix(k, Prefix("t2")) {
			t.Fatalf("key %q outside the owners' prefixes", k)
		}
	}
	if !slices.Contains(storedKeys(t, s), "t2/app/k") {
		t.Fatalf("stored keys %v", storedKeys(t, s))
	}
}

func TestCubbyholeExistence(t *testing.T) {
	b, s := newBackend(t)
	if _, err := call(b, s, "t1", logical.CreateOperation, "k", map[string]any{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	ec := b.(logical.ExistenceChecker)
	tests := []struct {
		id, path string
		want     bool
	}{
		{"t1", "k", true},
		{"t2", "k", false},
		{"t1", "other", false},
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+tt.path, func(t *testing.T) {
			req := &logical.Request{Operation: logical.CreateOperation, Path: tt.path, Storage: s, Caller: &logical.Caller{CubbyholeID: tt.id}}
			checked, exists, err := ec.Exists(context.Background(), req)
			if err != nil || !checked || exists != tt.want {
				t.Fatalf("Exists = %v, %v, %v; want true, %v", checked, exists, err, tt.want)
			}
		})
	}
}

// storedKeys returns every key in s, sorted, found by walking List.
func storedKeys(t testing.TB, s storage.Backend) []string {
	t.Helper()
	var out []string
	var walk func(folder string)
	walk = func(folder string) {
		children, err := s.List(context.Background(), folder)
		if err != nil {
			t.Fatalf("list %q: %v", folder, err)
		}
		for _, c := range children {
			if strings.HasSuffix(c, "/") {
				walk(folder + c)
			} else {
				out = append(out, folder+c)
			}
		}
	}
	walk("")
	slices.Sort(out)
	return out
}
