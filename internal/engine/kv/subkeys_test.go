package kv

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestSubkeys(t *testing.T) {
	e := newEnv(t)
	e.put("k", map[string]any{"old": "x"})
	e.put("k", map[string]any{
		"foo":   "abc",
		"bar":   map[string]any{"baz": "def", "deep": map[string]any{"x": map[string]any{"y": "z"}}},
		"empty": map[string]any{},
		"list":  []any{map[string]any{"a": "b"}},
	})
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"no limit", nil, `{"bar":{"baz":null,"deep":{"x":{"y":null}}},"empty":null,"foo":null,"list":null}`},
		{"depth 0 is no limit", map[string]any{"depth": 0}, `{"bar":{"baz":null,"deep":{"x":{"y":null}}},"empty":null,"foo":null,"list":null}`},
		{"depth 1", map[string]any{"depth": 1}, `{"bar":null,"empty":null,"foo":null,"list":null}`},
		{"depth 2", map[string]any{"depth": "2"}, `{"bar":{"baz":null,"deep":null},"empty":null,"foo":null,"list":null}`},
		{"depth 3", map[string]any{"depth": 3}, `{"bar":{"baz":null,"deep":{"x":null}},"empty":null,"foo":null,"list":null}`},
		{"older version", map[string]any{"version": 1}, `{"old":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.must(logical.ReadOperation, "subkeys/k", tt.data)
			if resp.NotFound {
				t.Fatal("live version marked not found")
			}
			assertJSON(t, resp.Data["subkeys"], tt.want)
		})
	}
	resp := e.must(logical.ReadOperation, "subkeys/k", map[string]any{"version": 1})
	assertJSON(t, resp.Data["metadata"], `{"created_time":"`+t0s+`","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}`)

	_, err := e.do(logical.ReadOperation, "subkeys/k", map[string]any{"depth": -1})
	assertKind(t, err, logical.KindInvalidRequest)
	if resp := e.must(logical.ReadOperation, "subkeys/absent", nil); resp != nil {
		t.Fatalf("absent key: %+v", resp)
	}
	if resp := e.must(logical.ReadOperation, "subkeys/k", map[string]any{"version": 5}); resp != nil {
		t.Fatalf("absent version: %+v", resp)
	}
	e.must(logical.DeleteOperation, "data/k", nil)
	resp = e.must(logical.ReadOperation, "subkeys/k", nil)
	if !resp.NotFound {
		t.Fatal("subkeys of a deleted version is not a 404")
	}
	assertJSON(t, resp.Data, `{"metadata":{"created_time":"`+t0s+`","custom_metadata":null,"deletion_time":"`+t0s+`","destroyed":false,"version":2},"subkeys":null}`)
}
