package kv

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func newV1Env(t *testing.T) (logical.Backend, storage.Backend) {
	t.Helper()
	b, err := Factory(context.Background(), &logical.BackendConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return b, inmem.New()
}

func v1Do(b logical.Backend, s storage.Backend, op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: s})
}

func TestV1ReadWriteDelete(t *testing.T) {
	b, s := newV1Env(t)
	steps := []struct {
		name     string
		op       logical.Operation
		path     string
		data     map[string]any
		wantData string
		wantKind logical.Kind
		wantErr  bool
	}{
		{name: "read absent", op: logical.ReadOperation, path: "a/b", wantData: "404"},
		{name: "write", op: logical.CreateOperation, path: "a/b", data: map[string]any{"user": "u", "path": "p", "n": json.Number("12345678901234567890")}, wantData: "204"},
		{name: "read", op: logical.ReadOperation, path: "a/b", wantData: `{"n":12345678901234567890,"path":"p","user":"u"}`},
		{name: "replace whole object", op: logical.UpdateOperation, path: "a/b", data: map[string]any{"pw": "x"}, wantData: "204"},
		{name: "read replaced", op: logical.ReadOperation, path: "a/b", wantData: `{"pw":"x"}`},
		{name: "empty body", op: logical.UpdateOperation, path: "a/b", data: map[string]any{}, wantErr: true, wantKind: logical.KindInvalidRequest},
		{name: "bad path", op: logical.UpdateOperation, path: "a/../b", data: map[string]any{"k": "v"}, wantErr: true, wantKind: logical.KindInvalidRequest},
		{name: "trailing slash", op: logical.ReadOperation, path: "a/", wantErr: true, wantKind: logical.KindInvalidRequest},
		{name: "empty path", op: logical.ReadOperation, path: "", wantErr: true, wantKind: logical.KindInvalidRequest},
		{name: "unchanged after errors", op: logical.ReadOperation, path: "a/b", wantData: `{"pw":"x"}`},
		{name: "delete", op: logical.DeleteOperation, path: "a/b", wantData: "204"},
		{name: "read deleted", op: logical.ReadOperation, path: "a/b", wantData: "404"},
		{name: "delete absent", op: logical.DeleteOperation, path: "a/b", wantData: "204"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			resp, err := v1Do(b, s, st.op, st.path, st.data)
			if st.wantErr {
				assertKind(t, err, st.wantKind)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch st.wantData {
			case "404":
				if resp != nil {
					t.Fatalf("got %+v, want nil (404)", resp)
				}
			case "204":
				assertNoContent(t, resp)
			default:
				assertJSON(t, resp.Data, st.wantData)
			}
		})
	}
}

func TestV1List(t *testing.T) {
	b, s := newV1Env(t)
	for _, p := range []string{"a", "a/b", "a/c/d", "z"} {
		if _, err := v1Do(b, s, logical.CreateOperation, p, map[string]any{"k": "v"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ path, want string }{
		{"", `{"keys":["a","a/","z"]}`},
		{"a", `{"keys":["b","c/"]}`},
		{"a/", `{"keys":["b","c/"]}`},
		{"a/c/", `{"keys":["d"]}`},
		{"nothing/", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := v1Do(b, s, logical.ListOperation, tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			var data any
			if resp != nil {
				data = resp.Data
			}
			assertJSON(t, data, tt.want)
		})
	}
}

func TestV1Existence(t *testing.T) {
	b, s := newV1Env(t)
	if _, err := v1Do(b, s, logical.CreateOperation, "k", map[string]any{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	ec := b.(logical.ExistenceChecker)
	for path, want := range map[string]bool{"k": true, "other": false} {
		checked, exists, err := ec.Exists(context.Background(), &logical.Request{Operation: logical.CreateOperation, Path: path, Storage: s})
		if err != nil || !checked || exists != want {
			t.Fatalf("%s: Exists = %v, %v, %v; want true, %v", path, checked, exists, err, want)
		}
	}
}
