package config

import (
	"os"
	"reflect"
	"testing"
)

// TestJSONEquivalence checks that the same configuration written as HCL and
// as JSON decodes to equal Configs, for each way JSON can spell blocks.
func TestJSONEquivalence(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, hcl, json string
	}{
		{"full example", read("testdata/full.hcl"), read("testdata/full.json")},
		{
			"blocks as objects",
			`storage "bolt" { path = "/d" }
listener "tcp" {
  tls_disable = 1
  allowed_cidrs = ["10.0.0.0/8"]
}
audit "file" { path = "/a" }
audit "stdout" {}
ui = "true"
default_lease_ttl = 60`,
			`{"storage": {"bolt": {"path": "/d"}},
 "listener": {"tcp": {"tls_disable": 1, "allowed_cidrs": ["10.0.0.0/8"]}},
 "audit": {"file": {"path": "/a"}, "stdout": {}},
 "ui": "true",
 "default_lease_ttl": 60}`,
		},
		{
			"blocks as lists, in order",
			`storage "inmem" {}
listener "tcp" {
  address = "127.0.0.1:1"
  tls_disable = true
}
listener "tcp" {
  address = "127.0.0.1:2"
  tls_disable = true
}
listener "tcp" {
  address = "127.0.0.1:3"
  tls_disable = true
}`,
			`{"storage": {"inmem": {}},
 "listener": [
  {"tcp": {"address": "127.0.0.1:1", "tls_disable": true}},
  {"tcp": {"address": "127.0.0.1:2", "tls_disable": true}},
  {"tcp": {"address": "127.0.0.1:3", "tls_disable": true}}
 ]}`,
		},
		{
			"block holding only a block",
			`storage "raft" {
  path = "/d"
  retry_join { auto_join_dns = "coffer.svc" }
}
listener "tcp" { tls_disable = true }`,
			`{"storage": {"raft": {"path": "/d", "retry_join": {"auto_join_dns": "coffer.svc"}}},
 "listener": {"tcp": {"tls_disable": true}}}`,
		},
		{
			"numbers kept as text in options",
			`storage "inmem" {}
listener "tcp" { tls_disable = true }
seal "pkcs11" {
  lib = "/lib.so"
  slot = 0
  pin = "1234"
  key_label = "k"
}`,
			`{"storage": {"inmem": {}}, "listener": {"tcp": {"tls_disable": true}},
 "seal": {"pkcs11": {"lib": "/lib.so", "slot": 0, "pin": "1234", "key_label": "k"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fromHCL, err := Parse("c.hcl", []byte(tt.hcl))
			if err != nil {
				t.Fatalf("HCL: %v", err)
			}
			fromJSON, err := Parse("c.json", []byte(tt.json))
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			if !reflect.DeepEqual(fromHCL, fromJSON) {
				t.Errorf("HCL and JSON differ:\nHCL  %+v\nJSON %+v", fromHCL, fromJSON)
			}
		})
	}
}
