package config

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// valid returns a configuration built in Go that passes Validate.
func valid() *Config {
	c := DevConfig("127.0.0.1:8200")
	c.Storage = Storage{Type: "raft", Options: map[string]string{"path": "/d"}}
	tls := DefaultListener()
	tls.Address = "0.0.0.0:8443"
	tls.TLSCertFile, tls.TLSKeyFile = "c.pem", "k.pem"
	c.Listeners = append(c.Listeners, tls)
	return c
}

// TestValidate checks the rules on configurations built in Go: messages
// name the block and field, without a file or line.
func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // full message; "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"shamir seal explicit", func(c *Config) { c.Seal = &Seal{Type: "shamir"} }, ""},
		{"audit name defaults to type", func(c *Config) { c.Audit = []Audit{{Type: "stdout"}} }, ""},
		{"retry join on raft", func(c *Config) { c.Storage.RetryJoin = []RetryJoin{{LeaderAPIAddr: "https://n2:8200"}} }, ""},
		{"auto join port", func(c *Config) {
			c.Storage.RetryJoin = []RetryJoin{{AutoJoinDNS: "coffer.svc", AutoJoinScheme: "https", AutoJoinPort: 8300}}
		}, ""},
		{"auto join negative port", func(c *Config) { c.Storage.RetryJoin = []RetryJoin{{AutoJoinDNS: "coffer.svc", AutoJoinPort: -1}} },
			`storage "raft": retry_join: auto_join_port: must be a port between 1 and 65535`},
		{"port 0 may repeat", func(c *Config) { c.Listeners[0].Address = "127.0.0.1:0"; c.Listeners[1].Address = "127.0.0.1:0" }, ""},
		{"no storage", func(c *Config) { c.Storage = Storage{} }, `storage: required, e.g. storage "bolt" { path = "/var/lib/coffer" }`},
		{"unknown storage", func(c *Config) { c.Storage.Type = "s3" }, `storage "s3": unknown storage type, want "inmem", "bolt", "raft", "etcd" or "postgresql"`},
		{"raft without path", func(c *Config) { c.Storage.Options = nil }, `storage "raft": path: required`},
		{"bolt unknown option", func(c *Config) { c.Storage = Storage{Type: "bolt", Options: map[string]string{"path": "/d", "x": "y"}} }, `storage "bolt": x: unknown key`},
		{"no listeners", func(c *Config) { c.Listeners = nil }, `listener: at least one listener block is required, e.g. listener "tcp" { ... }`},
		{"tls files", func(c *Config) { c.Listeners[1].TLSKeyFile = "" }, `listener "tcp": tls_key_file: required unless tls_disable is set`},
		{"empty tls version", func(c *Config) { c.Listeners[1].TLSMinVersion = "" }, `listener "tcp": tls_min_version: must be "tls12" or "tls13"`},
		{"zero request size", func(c *Config) { c.Listeners[0].MaxRequestSize = 0 }, `listener "tcp": max_request_size: must be a positive number of bytes`},
		{"zero request duration", func(c *Config) { c.Listeners[0].MaxRequestDuration = 0 }, `listener "tcp": max_request_duration: must be positive`},
		{"invalid prefix", func(c *Config) { c.Listeners[0].AllowedCIDRs = []netip.Prefix{{}} }, `listener "tcp": allowed_cidrs: "invalid Prefix" is not a valid CIDR`},
		{"unmasked prefix", func(c *Config) {
			c.Listeners[0].XForwardedForAuthorizedAddrs = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/8")}
		}, `listener "tcp": x_forwarded_for_authorized_addrs: "10.1.0.0/8" is not a valid CIDR`},
		{"duplicate address", func(c *Config) { c.Listeners[1].Address = c.Listeners[0].Address },
			`listener "tcp": address: 127.0.0.1:8200 is already bound by the listener at listener[0]`},
		{"seal type", func(c *Config) { c.Seal = &Seal{Type: "transit"} }, `seal "transit": unknown seal type, want "shamir", "static" or "pkcs11"`},
		{"static seal file", func(c *Config) { c.Seal = &Seal{Type: "static"} }, `seal "static": key_file: required`},
		{"audit same name", func(c *Config) { c.Audit = []Audit{{Type: "stdout"}, {Type: "stdout", Name: "stdout"}} },
			`audit "stdout": name: "stdout" is already used by the audit block at audit[0]; give each a distinct name`},
		{"retry join on bolt", func(c *Config) {
			c.Storage = Storage{Type: "bolt", Options: map[string]string{"path": "/d"}, RetryJoin: []RetryJoin{{AutoJoinDNS: "x"}}}
		}, `storage "bolt": retry_join: only valid for raft storage`},
		{"log level", func(c *Config) { c.LogLevel = "" }, `log_level: must be "trace", "debug", "info", "warn" or "error"`},
		{"ttl order", func(c *Config) { c.DefaultLeaseTTL, c.MaxLeaseTTL = 2*time.Hour, time.Hour },
			`max_lease_ttl: must be at least default_lease_ttl (1h0m0s < 2h0m0s)`},
		{"default ttl zero", func(c *Config) { c.DefaultLeaseTTL = 0 }, `default_lease_ttl: must be positive`},
		{"api addr", func(c *Config) { c.APIAddr = "127.0.0.1:8200" }, `api_addr: "127.0.0.1:8200" is not an http or https URL such as "https://10.0.0.1:8200"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.modify(c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}
