package kv

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestMergePatch(t *testing.T) {
	tests := []struct {
		name, target, patch, want string
	}{
		{"add key", `{"a":"1"}`, `{"b":"2"}`, `{"a":"1","b":"2"}`},
		{"replace key", `{"a":"1"}`, `{"a":"2"}`, `{"a":"2"}`},
		{"null deletes", `{"a":"1","b":"2"}`, `{"a":null}`, `{"b":"2"}`},
		{"null of absent key", `{"a":"1"}`, `{"z":null}`, `{"a":"1"}`},
		{"nested merge", `{"db":{"user":"u","pw":"p"}}`, `{"db":{"pw":"q"}}`, `{"db":{"pw":"q","user":"u"}}`},
		{"nested null deletes", `{"db":{"user":"u","pw":"p"}}`, `{"db":{"pw":null}}`, `{"db":{"user":"u"}}`},
		{"object replaces scalar", `{"a":"1"}`, `{"a":{"b":"c"}}`, `{"a":{"b":"c"}}`},
		{"new object drops nulls", `{}`, `{"a":{"b":null,"c":"d"}}`, `{"a":{"c":"d"}}`},
		{"array replaces", `{"a":[1,2]}`, `{"a":[3]}`, `{"a":[3]}`},
		{"scalar replaces object", `{"a":{"b":"c"}}`, `{"a":"x"}`, `{"a":"x"}`},
		{"empty patch", `{"a":"1"}`, `{}`, `{"a":"1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var target, patch map[string]any
			if err := json.Unmarshal([]byte(tt.target), &target); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.patch), &patch); err != nil {
				t.Fatal(err)
			}
			before := jsonOf(t, patch)
			assertJSON(t, mergePatch(target, patch), tt.want)
			if after := jsonOf(t, patch); after != before {
				t.Fatalf("patch modified: %s -> %s", before, after)
			}
		})
	}
}

func TestDataPatch(t *testing.T) {
	e := newEnv(t)
	e.put("k", map[string]any{"user": "u", "db": map[string]any{"host": "h", "port": json.Number("5432")}, "old": "x"})
	resp := e.must(logical.PatchOperation, "data/k", map[string]any{
		"data": map[string]any{"old": nil, "db": map[string]any{"port": json.Number("6432")}, "new": "n"},
	})
	assertJSON(t, resp.Data, `{"created_time":"`+t0s+`","custom_metadata":null,"deletion_time":"","destroyed":false,"version":2}`)
	resp = e.must(logical.ReadOperation, "data/k", nil)
	assertJSON(t, resp.Data["data"], `{"db":{"host":"h","port":6432},"new":"n","user":"u"}`)
	// Version 1 is untouched.
	resp = e.must(logical.ReadOperation, "data/k", map[string]any{"version": 1})
	assertJSON(t, resp.Data["data"], `{"db":{"host":"h","port":5432},"old":"x","user":"u"}`)
}

func TestDataPatchRules(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(e *env)
		body    map[string]any
		want404 bool
		wantErr string
		wantVer uint64
	}{
		{name: "absent key", body: map[string]any{"data": map[string]any{"a": "1"}}, want404: true},
		{name: "metadata only", setup: func(e *env) { e.must(logical.UpdateOperation, "metadata/k", map[string]any{"max_versions": 2}) },
			body: map[string]any{"data": map[string]any{"a": "1"}}, want404: true},
		{name: "no data", setup: func(e *env) { e.put("k", map[string]any{"a": "1"}) }, body: map[string]any{}, wantErr: "no data provided"},
		{name: "cas matches", setup: func(e *env) { e.put("k", map[string]any{"a": "1"}) },
			body: map[string]any{"data": map[string]any{"a": "2"}, "options": map[string]any{"cas": 1}}, wantVer: 2},
		{name: "cas stale", setup: func(e *env) { e.put("k", map[string]any{"a": "1"}); e.put("k", map[string]any{"a": "2"}) },
			body: map[string]any{"data": map[string]any{"a": "3"}, "options": map[string]any{"cas": 1}}, wantErr: "did not match"},
		{name: "cas required", setup: func(e *env) {
			e.put("k", map[string]any{"a": "1"})
			e.must(logical.UpdateOperation, "config", map[string]any{"cas_required": true})
		}, body: map[string]any{"data": map[string]any{"a": "3"}}, wantErr: "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			resp, err := e.do(logical.PatchOperation, "data/k", tt.body)
			switch {
			case tt.wantErr != "":
				assertKind(t, err, logical.KindInvalidRequest)
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %q, want %q", err, tt.wantErr)
				}
			case tt.want404:
				if err != nil || resp != nil {
					t.Fatalf("got %+v, %v; want 404", resp, err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if resp.Data["version"] != tt.wantVer {
					t.Fatalf("version = %v, want %d", resp.Data["version"], tt.wantVer)
				}
			}
		})
	}
}

func TestDataPatchDeletedOrDestroyed(t *testing.T) {
	for _, action := range []string{"delete", "destroy"} {
		t.Run(action, func(t *testing.T) {
			e := newEnv(t)
			e.put("k", map[string]any{"a": "1"})
			e.must(logical.UpdateOperation, action+"/k", map[string]any{"versions": []any{json.Number("1")}})
			resp := e.must(logical.PatchOperation, "data/k", map[string]any{"data": map[string]any{"b": "2"}})
			if !resp.NotFound {
				t.Fatal("patch of a gone version is not a 404")
			}
			want := `{"created_time":"` + t0s + `","custom_metadata":null,"deletion_time":"` + t0s + `","destroyed":false,"version":1}`
			if action == "destroy" {
				want = `{"created_time":"` + t0s + `","custom_metadata":null,"deletion_time":"","destroyed":true,"version":1}`
			}
			assertJSON(t, resp.Data, want)
			if meta, _ := loadMetadata(t.Context(), e.s, "k"); meta.CurrentVersion != 1 {
				t.Fatalf("patch of a %sd version wrote version %d", action, meta.CurrentVersion)
			}
		})
	}
}
