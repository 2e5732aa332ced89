package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error it returns
// wraps ErrInvalid, and that every configuration it accepts validates again.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/full.hcl", "testdata/full.json"} {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = 1 }\n",
		"storage { raft { path = \"/d\"\n retry_join { auto_join_dns = \"x\" } } }\nlistener tcp { tls_disable = \"true\" }",
		`{"storage": {"bolt": {"path": "/d"}}, "listener": [{"tcp": {"tls_disable": true}}]}`,
		"storage \"inmem\" {}\nlistener \"tcp\" {\n tls_disable = true\n allowed_cidrs = \"10.0.0.0/8, ::1\"\n}\nmax_lease_ttl = \"7d\"\n",
		"api_addr = <<EOT\nhttps://x\nEOT\n",
		"ui =",
		"seal \"pkcs11\" { slot = 0 pin = \"1\" }",
		"storage \"inmem\" {}\nlistener \"tcp\" {\n tls_disable = true\n x_forwarded_for_hop_skips = 2\n path_rule \"sys/*\" { allowed_cidrs = [\"10.0.0.0/8\"] }\n}\n",
		"user_lockout \"all\" { lockout_threshold = \"3\" lockout_duration = \"1m\" }\nnetwork { ban_threshold = 0 }\n",
		"storage \"raft\" { path = \"/d\" }\nraft_snapshot {\n interval = \"1h\"\n path = \"/s\"\n retain = 24\n}\n",
		`{"storage": {"raft": {"path": "/d"}}, "raft_snapshot": {"interval": "30m", "path": "/s", "retain": 2}}`,
		`{"network": {"blocklist_file": "/x", "ban_window": 60}, "user_lockout": {"userpass": {"disable_lockout": true}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.hcl", src)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
	})
}
