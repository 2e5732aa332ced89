package config

import (
	"errors"
	"testing"
)

// TestParseNetworkErrors checks that network-control problems name file,
// line, block and field like the rest of the configuration.
func TestParseNetworkErrors(t *testing.T) {
	const S = "storage \"inmem\" {}\n"
	lst := func(body string) string { return S + "listener \"tcp\" {\n  tls_disable = true\n" + body + "\n}\n" } // body at 4
	SL := lst("")
	for _, tt := range []struct{ name, src, want string }{
		{"hop skips negative", lst(`  x_forwarded_for_hop_skips = -1`),
			`c.hcl:4: listener "tcp": x_forwarded_for_hop_skips: must not be negative`},
		{"reject flag not bool", lst(`  x_forwarded_for_reject_not_present = "maybe"`),
			`c.hcl:4: listener "tcp": x_forwarded_for_reject_not_present: must be true or false ("true", "false", "1" and "0" also work)`},
		{"path rule bad cidr", lst("  path_rule \"sys/\" {\n    allowed_cidrs = [\"10.0.0.0/33\"]\n  }"),
			`c.hcl:5: listener "tcp": path_rule "sys/": allowed_cidrs: "10.0.0.0/33" is not a CIDR such as "10.0.0.0/8"`},
		{"path rule without cidrs", lst("  path_rule \"sys/\" {\n  }"),
			`c.hcl:4: listener "tcp": path_rule "sys/": allowed_cidrs: required: at least one CIDR`},
		{"path rule empty prefix", lst("  path_rule \"*\" {\n    allowed_cidrs = \"10.0.0.0/8\"\n  }"),
			`c.hcl:4: listener "tcp": path_rule "*": needs a path prefix such as "sys/"`},
		{"path rule unknown key", lst("  path_rule \"sys/\" {\n    allowed = \"10.0.0.0/8\"\n  }"),
			`c.hcl:5: listener "tcp": path_rule "sys/": allowed: unknown key`},
		{"lockout threshold", SL + "user_lockout \"all\" {\n  lockout_threshold = 0\n}",
			`c.hcl:7: user_lockout "all": lockout_threshold: must be positive`},
		{"lockout duration", SL + "user_lockout \"userpass\" {\n  lockout_duration = \"soon\"\n}",
			`c.hcl:7: user_lockout "userpass": lockout_duration: must be a duration such as "90s", "1h" or "7d"`},
		{"lockout twice", SL + "user_lockout \"all\" {}\nuser_lockout \"all\" {}",
			`c.hcl:7: user_lockout "all": declared more than once`},
		{"network label", SL + "network \"x\" {}", `c.hcl:6: network: must be a block without a label: network { ... }`},
		{"network twice", SL + "network {}\nnetwork {}", `c.hcl:7: network: set more than once (first at line 6)`},
		{"network unknown", SL + "network {\n  ban_threshhold = 3\n}", `c.hcl:7: network: ban_threshhold: unknown key`},
		{"ban window", SL + "network {\n  ban_window = \"0s\"\n}", `c.hcl:7: network: ban_window: must be positive when ban_threshold is set`},
		{"reload interval", SL + "network {\n  blocklist_reload_interval = 0\n}", `c.hcl:7: network: blocklist_reload_interval: must be positive`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.hcl", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.src)
			}
			if !errors.Is(err, ErrInvalid) || err.Error() != tt.want {
				t.Errorf("Parse error\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestParseNetworkDefaults(t *testing.T) {
	c := mustParse(t, "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n  path_rule \"sys/\" { allowed_cidrs = \"127.0.0.1\" }\n}\nuser_lockout \"approle\" {\n  lockout_threshold = \"3\"\n}\nnetwork {\n  ban_threshold = 0\n}\n")
	l := c.Listeners[0]
	if !l.XForwardedForRejectNotAuthorized || !l.XForwardedForRejectNotPresent {
		t.Errorf("x_forwarded_for_reject_* defaults = %v/%v, want Vault's true/true",
			l.XForwardedForRejectNotAuthorized, l.XForwardedForRejectNotPresent)
	}
	if len(l.PathRules) != 1 || l.PathRules[0].Prefix != "sys/" || l.PathRules[0].AllowedCIDRs[0].String() != "127.0.0.1/32" {
		t.Errorf("path rules = %+v", l.PathRules)
	}
	want := DefaultUserLockout("approle")
	want.Threshold = 3
	if len(c.UserLockouts) != 1 || c.UserLockouts[0] != want {
		t.Errorf("user_lockout = %+v, want %+v", c.UserLockouts, want)
	}
	n := DefaultNetwork()
	n.BanThreshold = 0
	if c.Network != n {
		t.Errorf("network = %+v, want %+v", c.Network, n)
	}
}
