package apiclient

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseSecret checks that any server body either fails to parse cleanly
// or survives an encode/parse round trip unchanged.
func FuzzParseSecret(f *testing.F) {
	f.Add([]byte(`{"request_id":"r","lease_id":"l","lease_duration":30,"renewable":true,"data":{"a":1.5,"b":[1,"x",null]},"warnings":["w"]}`))
	f.Add([]byte(`{"auth":{"client_token":"hvs.x","policies":["root"],"metadata":{"k":"v"},"lease_duration":0}}`))
	f.Add([]byte(`{"wrap_info":{"token":"t","ttl":60,"creation_time":"2024-01-02T03:04:05Z"}}`))
	f.Add([]byte(`{"errors":["permission denied"]}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"data":{"n":123456789012345678901234567890}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseSecret(bytes.NewReader(body))
		if err != nil || s == nil {
			return
		}
		first, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal parsed secret: %v", err)
		}
		again, err := ParseSecret(bytes.NewReader(first))
		if err != nil {
			t.Fatalf("reparse %s: %v", first, err)
		}
		second, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the secret:\n%s\n%s", first, second)
		}
	})
}
