package cubbyhole

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// FuzzCubbyholePath sends arbitrary paths and bodies through every
// operation: nothing may panic, a successful write reads back as written,
// and no key lands outside the caller's prefix.
func FuzzCubbyholePath(f *testing.F) {
	f.Add("k", []byte(`{"a":"b"}`))
	f.Add("../other/k", []byte(`{"a":"b"}`))
	f.Add("a//b/", []byte(`{}`))
	f.Add("a/b", []byte(`{"n":1,"o":{"p":[1,null]}}`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		b, s := newBackend(t)
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var data map[string]any
		if dec.Decode(&data) != nil {
			data = map[string]any{"k": "v"}
		}
		if _, err := call(b, s, "tok", logical.UpdateOperation, path, data); err == nil {
			resp, err := call(b, s, "tok", logical.ReadOperation, path, nil)
			if err != nil || resp == nil {
				t.Fatalf("read after write: %+v, %v", resp, err)
			}
			got, _ := json.Marshal(resp.Data)
			want, _ := json.Marshal(data)
			if !bytes.Equal(got, want) {
				t.Fatalf("read back %s, wrote %s", got, want)
			}
		}
		for _, op := range []logical.Operation{logical.ReadOperation, logical.ListOperation, logical.DeleteOperation} {
			_, _ = call(b, s, "tok", op, path, data)
		}
		for _, k := range storedKeys(t, s) {
			if !strings.HasPrefix(k, Prefix("tok")) {
				t.Fatalf("key %q outside the caller's prefix", k)
			}
		}
	})
}
