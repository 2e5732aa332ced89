package kv

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// FuzzKVv2Path sends arbitrary paths and bodies through every KV v2
// operation: nothing may panic, and a successful data write must read back
// as written.
func FuzzKVv2Path(f *testing.F) {
	f.Add("app/db", []byte(`{"data":{"user":"u","n":1},"options":{"cas":0}}`))
	f.Add("a/../b", []byte(`{"data":{"k":"v"}}`))
	f.Add("a//b", []byte(`{"data":{}}`))
	f.Add("x/", []byte(`{"data":{"k":null}}`))
	f.Add("deep/path/k", []byte(`{"data":{"a":{"b":{"c":[1,2,{"d":"e"}]}}},"versions":[1,"2"],"depth":1}`))
	f.Add("k", []byte(`{"max_versions":1,"custom_metadata":{"a":"b"},"delete_version_after":"1h"}`))
	f.Add("\x00\xff", []byte(`not json`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		e := newEnv(t)
		data := decodeBody(body)
		resp, err := e.do(logical.CreateOperation, "data/"+path, data)
		if err == nil {
			if resp == nil || resp.Data["version"] != uint64(1) {
				t.Fatalf("write succeeded with response %+v", resp)
			}
			got := e.must(logical.ReadOperation, "data/"+path, nil)
			if got == nil {
				t.Fatal("written secret reads as absent")
			}
			if a, b := normalJSON(t, got.Data["data"]), normalJSON(t, data["data"]); a != b {
				t.Fatalf("read back %s, wrote %s", a, b)
			}
		}
		ops := []logical.Operation{logical.ReadOperation, logical.UpdateOperation, logical.PatchOperation, logical.DeleteOperation, logical.ListOperation}
		for _, prefix := range []string{"data/", "metadata/", "delete/", "undelete/", "destroy/", "subkeys/", ""} {
			for _, op := range ops {
				_, _ = e.do(op, prefix+path, data)
			}
		}
	})
}

// decodeBody decodes a fuzzed body the way the HTTP layer would, falling
// back to a fixed secret when it is not a JSON object.
func decodeBody(body []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return map[string]any{"data": map[string]any{"k": "v"}}
	}
	return m
}

// normalJSON is v's JSON after one decode/encode round trip, so equal
// values compare equal whatever their Go types.
func normalJSON(t *testing.T, v any) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(jsonOf(t, v))))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return jsonOf(t, out)
}
