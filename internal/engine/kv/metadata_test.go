package kv

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestMetadataReadShape(t *testing.T) {
	e := newEnv(t)
	e.put("app/k", map[string]any{"a": "1"})
	e.clock.Advance(time.Second)
	e.put("app/k", map[string]any{"a": "2"})
	e.must(logical.DeleteOperation, "data/app/k", nil)
	e.must(logical.UpdateOperation, "metadata/app/k", map[string]any{
		"max_versions": 5, "cas_required": true, "delete_version_after": "3h25m19s",
		"custom_metadata": map[string]any{"owner": "team-a"},
	})
	resp := e.must(logical.ReadOperation, "metadata/app/k", nil)
	assertJSON(t, resp.Data, `{
		"cas_required": true,
		"created_time": "`+t0s+`",
		"current_version": 2,
		"custom_metadata": {"owner": "team-a"},
		"delete_version_after": "3h25m19s",
		"max_versions": 5,
		"oldest_version": 0,
		"updated_time": "2024-05-06T07:08:10.123456789Z",
		"versions": {
			"1": {"created_time": "`+t0s+`", "deletion_time": "", "destroyed": false},
			"2": {"created_time": "2024-05-06T07:08:10.123456789Z", "deletion_time": "2024-05-06T07:08:10.123456789Z", "destroyed": false}
		}
	}`)
	// Data reads carry the custom metadata.
	resp = e.must(logical.ReadOperation, "data/app/k", map[string]any{"version": 1})
	assertJSON(t, resp.Data["metadata"], `{"created_time":"`+t0s+`","custom_metadata":{"owner":"team-a"},"deletion_time":"","destroyed":false,"version":1}`)
}

func TestMetadataWriteCreatesKey(t *testing.T) {
	e := newEnv(t)
	if resp := e.must(logical.ReadOperation, "metadata/k", nil); resp != nil {
		t.Fatalf("absent key: %+v", resp)
	}
	assertNoContent(t, e.must(logical.UpdateOperation, "metadata/k", map[string]any{}))
	if len(e.keys("")) != 0 {
		t.Fatal("empty metadata write stored something")
	}
	e.must(logical.CreateOperation, "metadata/k", map[string]any{"custom_metadata": nil})
	resp := e.must(logical.ReadOperation, "metadata/k", nil)
	assertJSON(t, resp.Data, `{"cas_required":false,"created_time":"`+t0s+`","current_version":0,"custom_metadata":{},
		"delete_version_after":"0s","max_versions":0,"oldest_version":0,"updated_time":"`+t0s+`","versions":{}}`)
	// A first data write after that is version 1 and keeps created_time.
	e.clock.Advance(time.Hour)
	if v := e.put("k", map[string]any{"a": "1"}).Data["version"]; v != uint64(1) {
		t.Fatalf("version = %v", v)
	}
	if got := e.must(logical.ReadOperation, "metadata/k", nil).Data["created_time"]; got != t0s {
		t.Fatalf("created_time = %v", got)
	}
}

func TestMetadataWriteReplacesCustomMetadata(t *testing.T) {
	e := newEnv(t)
	e.must(logical.UpdateOperation, "metadata/k", map[string]any{"custom_metadata": map[string]any{"a": "1", "b": "2"}, "max_versions": 4})
	e.must(logical.UpdateOperation, "metadata/k", map[string]any{"custom_metadata": map[string]any{"c": 3, "d": true}})
	resp := e.must(logical.ReadOperation, "metadata/k", nil)
	assertJSON(t, resp.Data["custom_metadata"], `{"c":"3","d":"true"}`)
	if resp.Data["max_versions"] != uint32(4) {
		t.Fatalf("a write without max_versions changed it to %v", resp.Data["max_versions"])
	}
}

func TestMetadataPatch(t *testing.T) {
	tests := []struct {
		name  string
		patch map[string]any
		want  string
	}{
		{"custom merge", map[string]any{"custom_metadata": map[string]any{"b": "B", "c": "3"}},
			`{"cas_required":true,"custom":{"a":"1","b":"B","c":"3"},"dva":"1h0m0s","max":5}`},
		{"custom null value removes key", map[string]any{"custom_metadata": map[string]any{"a": nil}},
			`{"cas_required":true,"custom":{"b":"2"},"dva":"1h0m0s","max":5}`},
		{"custom null removes all", map[string]any{"custom_metadata": nil},
			`{"cas_required":true,"custom":null,"dva":"1h0m0s","max":5}`},
		{"scalars", map[string]any{"max_versions": 7, "cas_required": false, "delete_version_after": "30s"},
			`{"cas_required":false,"custom":{"a":"1","b":"2"},"dva":"30s","max":7}`},
		{"null scalars reset", map[string]any{"max_versions": nil, "cas_required": nil, "delete_version_after": nil},
			`{"cas_required":false,"custom":{"a":"1","b":"2"},"dva":"0s","max":0}`},
		{"empty patch", map[string]any{},
			`{"cas_required":true,"custom":{"a":"1","b":"2"},"dva":"1h0m0s","max":5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.must(logical.UpdateOperation, "metadata/k", map[string]any{
				"max_versions": 5, "cas_required": true, "delete_version_after": "1h",
				"custom_metadata": map[string]any{"a": "1", "b": "2"},
			})
			assertNoContent(t, e.must(logical.PatchOperation, "metadata/k", tt.patch))
			d := e.must(logical.ReadOperation, "metadata/k", nil).Data
			assertJSON(t, map[string]any{"cas_required": d["cas_required"], "custom": d["custom_metadata"],
				"dva": d["delete_version_after"], "max": d["max_versions"]}, tt.want)
		})
	}
	e := newEnv(t)
	if resp := e.must(logical.PatchOperation, "metadata/absent", map[string]any{"max_versions": 1}); resp != nil {
		t.Fatalf("patch of absent key: %+v", resp)
	}
	if len(e.keys("")) != 0 {
		t.Fatal("patch of absent key created it")
	}
}

func TestMetadataCASRequiredWarning(t *testing.T) {
	e := newEnv(t)
	e.must(logical.UpdateOperation, "config", map[string]any{"cas_required": true})
	for _, op := range []logical.Operation{logical.UpdateOperation, logical.PatchOperation} {
		resp := e.must(op, "metadata/k", map[string]any{"cas_required": false})
		if resp == nil || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "mandated by backend config") {
			t.Fatalf("%s: got %+v, want the cas_required warning", op, resp)
		}
	}
	assertNoContent(t, e.must(logical.UpdateOperation, "metadata/k", map[string]any{"cas_required": true}))
}

func TestCustomMetadataLimits(t *testing.T) {
	many := map[string]any{}
	for i := range 65 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	atLimit := map[string]any{}
	for i := range 64 {
		atLimit[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", 512)
	}
	atLimit[strings.Repeat("k", 128)[:128]] = "v"
	delete(atLimit, "k00")
	tests := []struct {
		name    string
		custom  any
		wantErr string
	}{
		{"64 keys at max lengths", atLimit, ""},
		{"65 keys", many, "at most 64 keys"},
		{"key too long", map[string]any{strings.Repeat("k", 129): "v"}, "length of key"},
		{"empty key", map[string]any{"": "v"}, "length of key"},
		{"value too long", map[string]any{"k": strings.Repeat("v", 513)}, "length of value"},
		{"empty value", map[string]any{"k": ""}, "length of value"},
		{"null value on write", map[string]any{"k": nil}, "length of value"},
		{"unprintable key", map[string]any{"k\x01": "v"}, "unprintable"},
		{"unprintable value", map[string]any{"k": "v\x7f"}, "unprintable"},
		{"object value", map[string]any{"k": map[string]any{}}, "must be a string"},
		{"not an object", "str", "expected an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.do(logical.UpdateOperation, "metadata/k", map[string]any{"custom_metadata": tt.custom})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertKind(t, err, logical.KindInvalidRequest)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %q, want %q", err, tt.wantErr)
			}
			if len(e.keys("")) != 0 {
				t.Fatal("rejected metadata was stored")
			}
		})
	}
	// A patch that would exceed the limit on the merged result fails too.
	e := newEnv(t)
	e.must(logical.UpdateOperation, "metadata/k", map[string]any{"custom_metadata": atLimit})
	_, err := e.do(logical.PatchOperation, "metadata/k", map[string]any{"custom_metadata": map[string]any{"extra": "v"}})
	assertKind(t, err, logical.KindInvalidRequest)
}

func TestMetadataDelete(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		e.put("k", map[string]any{"a": "1"})
	}
	e.put("k/child", map[string]any{"a": "1"})
	e.must(logical.UpdateOperation, "destroy/k", map[string]any{"versions": []any{2}})
	assertNoContent(t, e.must(logical.DeleteOperation, "metadata/k", nil))
	if got := strings.Join(e.keys(""), ","); got != "metadata/k/child,versions/k/child/1" {
		t.Fatalf("left in storage: %s", got)
	}
	if resp := e.must(logical.ReadOperation, "data/k", nil); resp != nil {
		t.Fatalf("read after metadata delete: %+v", resp)
	}
	// The key starts over at version 1.
	if v := e.put("k", map[string]any{"a": "1"}).Data["version"]; v != uint64(1) {
		t.Fatalf("version after recreate = %v", v)
	}
	assertNoContent(t, e.must(logical.DeleteOperation, "metadata/absent", nil))
}

func TestMetadataList(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"a", "a/b", "a/c/d", "z"} {
		e.put(p, map[string]any{"k": "v"})
	}
	tests := []struct {
		path string
		want string
	}{
		{"metadata", `{"keys":["a","a/","z"]}`},
		{"metadata/", `{"keys":["a","a/","z"]}`},
		{"metadata/a", `{"keys":["b","c/"]}`},
		{"metadata/a/", `{"keys":["b","c/"]}`},
		{"metadata/a/c/", `{"keys":["d"]}`},
		{"metadata/nothing/", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp := e.must(logical.ListOperation, tt.path, nil)
			var data any
			if resp != nil {
				data = resp.Data
			}
			assertJSON(t, data, tt.want)
		})
	}
	_, err := e.do(logical.ListOperation, "metadata/a//", nil)
	assertKind(t, err, logical.KindInvalidRequest)
}

func TestExistence(t *testing.T) {
	e := newEnv(t)
	e.put("k", map[string]any{"a": "1"})
	tests := []struct {
		path          string
		checked, want bool
	}{
		{"data/k", true, true},
		{"data/other", true, false},
		{"metadata/k", true, true},
		{"metadata/other", true, false},
		{"config", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			checked, exists, err := e.b.Exists(t.Context(), &logical.Request{Operation: logical.CreateOperation, Path: tt.path, Storage: e.s})
			if err != nil || checked != tt.checked || exists != tt.want {
				t.Fatalf("Exists = %v, %v, %v; want %v, %v", checked, exists, err, tt.checked, tt.want)
			}
		})
	}
}
