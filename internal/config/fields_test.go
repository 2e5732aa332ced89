package config

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

const (
	baseStorage  = "storage \"inmem\" {}\n"
	baseListener = "listener \"tcp\" {\n  tls_disable = true\n}\n"
)

// TestTopLevelFields decodes each top-level attribute in its accepted forms.
func TestTopLevelFields(t *testing.T) {
	tests := []struct {
		name string
		src  string
		get  func(*Config) any
		want any
	}{
		{"api_addr", `api_addr = "https://a:8200"`, func(c *Config) any { return c.APIAddr }, "https://a:8200"},
		{"cluster_addr", `cluster_addr = "https://a:8201"`, func(c *Config) any { return c.ClusterAddr }, "https://a:8201"},
		{"ui default", ``, func(c *Config) any { return c.UI }, false},
		{"ui bool", `ui = true`, func(c *Config) any { return c.UI }, true},
		{"ui string", `ui = "true"`, func(c *Config) any { return c.UI }, true},
		{"ui string 1", `ui = "1"`, func(c *Config) any { return c.UI }, true},
		{"ui number 1", `ui = 1`, func(c *Config) any { return c.UI }, true},
		{"ui string false", `ui = "false"`, func(c *Config) any { return c.UI }, false},
		{"ui string 0", `ui = "0"`, func(c *Config) any { return c.UI }, false},
		{"log_level", `log_level = "trace"`, func(c *Config) any { return c.LogLevel }, "trace"},
		{"log_level warn", `log_level = "warn"`, func(c *Config) any { return c.LogLevel }, "warn"},
		{"log_format", `log_format = "json"`, func(c *Config) any { return c.LogFormat }, "json"},
		{"default_lease_ttl hours", `default_lease_ttl = "1h"`, func(c *Config) any { return c.DefaultLeaseTTL }, time.Hour},
		{"default_lease_ttl seconds number", `default_lease_ttl = 3600`, func(c *Config) any { return c.DefaultLeaseTTL }, time.Hour},
		{"default_lease_ttl seconds string", `default_lease_ttl = "90"`, func(c *Config) any { return c.DefaultLeaseTTL }, 90 * time.Second},
		{"max_lease_ttl days", `max_lease_ttl = "7d"`, func(c *Config) any { return c.MaxLeaseTTL }, 7 * 24 * time.Hour},
		{"max_lease_ttl days and hours", `max_lease_ttl = "40d12h"`, func(c *Config) any { return c.MaxLeaseTTL }, 972 * time.Hour},
		{"default_lease_ttl follows a lower max", `max_lease_ttl = "1h"`, func(c *Config) any { return c.DefaultLeaseTTL }, time.Hour},
		{"disable_mlock", `disable_mlock = true`, func(c *Config) any { return c.DisableMlock }, true},
		{"gc_heap_floor default", ``, func(c *Config) any { return c.GCHeapFloor }, int64(32 << 20)},
		{"gc_heap_floor", `gc_heap_floor = 134217728`, func(c *Config) any { return c.GCHeapFloor }, int64(128 << 20)},
		{"gc_heap_floor off", `gc_heap_floor = 0`, func(c *Config) any { return c.GCHeapFloor }, int64(0)},
		{"seal shamir explicit", `seal "shamir" {}`, func(c *Config) any { return *c.Seal }, Seal{Type: "shamir", Options: map[string]string{}}},
		{"seal absent", ``, func(c *Config) any { return c.Seal == nil }, true},
		{"seal pkcs11 numbers kept as text", "seal \"pkcs11\" {\n lib = \"/usr/lib/softhsm/libsofthsm2.so\"\n slot = 0\n pin = \"1234\"\n key_label = \"coffer\"\n}",
			func(c *Config) any { return c.Seal.Options },
			map[string]string{"lib": "/usr/lib/softhsm/libsofthsm2.so", "slot": "0", "pin": "1234", "key_label": "coffer"}},
		{"audit name", "audit \"file\" {\n name = \"main\"\n path = \"/a.log\"\n}",
			func(c *Config) any { return c.Audit }, []Audit{{Type: "file", Name: "main", Options: map[string]string{"path": "/a.log"}}}},
		{"audit repeated in order", "audit \"stdout\" {}\naudit \"file\" { path = \"/a\" }",
			func(c *Config) any { return []string{c.Audit[0].Name, c.Audit[1].Name} }, []string{"stdout", "file"}},
		{"storage bolt", `storage "bolt" { path = "/data" }`,
			func(c *Config) any { return c.Storage }, Storage{Type: "bolt", Options: map[string]string{"path": "/data"}}},
		{"nested block spelling", `storage { bolt { path = "/data" } }`,
			func(c *Config) any { return c.Storage }, Storage{Type: "bolt", Options: map[string]string{"path": "/data"}}},
		{"heredoc string", "storage \"bolt\" {\n path = <<EOT\n/data\nEOT\n}\n",
			func(c *Config) any { return c.Storage.Options["path"] }, "/data\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src + "\n" + baseListener
			if !hasStorage(tt.src) {
				src += baseStorage
			}
			if got := tt.get(mustParse(t, src)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func hasStorage(src string) bool {
	return len(src) >= 7 && src[:7] == "storage"
}

// TestListenerFields decodes each listener attribute in its accepted forms.
func TestListenerFields(t *testing.T) {
	tls := "  tls_cert_file = \"c.pem\"\n  tls_key_file = \"k.pem\"\n"
	tests := []struct {
		name string
		body string
		get  func(Listener) any
		want any
	}{
		{"address", `address = "0.0.0.0:9200"`, func(l Listener) any { return l.Address }, "0.0.0.0:9200"},
		{"address ipv6", `address = "[::1]:9200"`, func(l Listener) any { return l.Address }, "[::1]:9200"},
		{"tls files", ``, func(l Listener) any { return [2]string{l.TLSCertFile, l.TLSKeyFile} }, [2]string{"c.pem", "k.pem"}},
		{"tls_disable string", `tls_disable = "true"`, func(l Listener) any { return l.TLSDisable }, true},
		{"tls_disable 1", `tls_disable = "1"`, func(l Listener) any { return l.TLSDisable }, true},
		{"tls_disable false", `tls_disable = false`, func(l Listener) any { return l.TLSDisable }, false},
		{"tls_min_version", `tls_min_version = "tls13"`, func(l Listener) any { return l.TLSMinVersion }, "tls13"},
		{"tls_min_version default", ``, func(l Listener) any { return l.TLSMinVersion }, "tls12"},
		{"client ca and verify", "tls_client_ca_file = \"ca.pem\"\ntls_require_and_verify_client_cert = true",
			func(l Listener) any { return [2]any{l.TLSClientCAFile, l.TLSRequireAndVerifyClientCert} }, [2]any{"ca.pem", true}},
		{"redirect_address", `redirect_address = "127.0.0.1:8080"`, func(l Listener) any { return l.RedirectAddress }, "127.0.0.1:8080"},
		{"cluster_address", `cluster_address = "10.0.0.5:8201"`, func(l Listener) any { return l.ClusterAddress }, "10.0.0.5:8201"},
		{"max_request_size", `max_request_size = 1024`, func(l Listener) any { return l.MaxRequestSize }, int64(1024)},
		{"max_request_size string", `max_request_size = "2048"`, func(l Listener) any { return l.MaxRequestSize }, int64(2048)},
		{"max_request_duration", `max_request_duration = "2m"`, func(l Listener) any { return l.MaxRequestDuration }, 2 * time.Minute},
		{"max_request_duration seconds", `max_request_duration = 5`, func(l Listener) any { return l.MaxRequestDuration }, 5 * time.Second},
		{"xff list", `x_forwarded_for_authorized_addrs = ["10.0.0.0/8", "fd00::/8"]`,
			func(l Listener) any { return l.XForwardedForAuthorizedAddrs }, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}},
		{"xff comma string", `x_forwarded_for_authorized_addrs = "10.0.0.0/8,  192.168.0.0/16"`,
			func(l Listener) any { return l.XForwardedForAuthorizedAddrs }, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/16")}},
		{"allowed_cidrs bare address", `allowed_cidrs = ["127.0.0.1", "::1"]`,
			func(l Listener) any { return l.AllowedCIDRs }, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}},
		{"allowed_cidrs empty string", `allowed_cidrs = ""`, func(l Listener) any { return l.AllowedCIDRs == nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := baseStorage + "listener \"tcp\" {\n" + tls + tt.body + "\n}\n"
			c := mustParse(t, src)
			if len(c.Listeners) != 1 {
				t.Fatalf("got %d listeners", len(c.Listeners))
			}
			if got := tt.get(c.Listeners[0]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestRetryJoinFields(t *testing.T) {
	src := baseListener + `storage "raft" {
  path = "/data"
  retry_join {
    leader_api_addr = "https://n2:8200"
    leader_ca_cert_file = "ca.pem"
    leader_client_cert_file = "c.pem"
    leader_client_key_file = "k.pem"
  }
  retry_join { auto_join_dns = "coffer.svc" }
  retry_join {
    auto_join_dns = "coffer-api.svc"
    auto_join_scheme = "http"
    auto_join_port = 8300
  }
}`
	c := mustParse(t, src)
	want := []RetryJoin{
		{LeaderAPIAddr: "https://n2:8200", LeaderCACertFile: "ca.pem", LeaderClientCertFile: "c.pem", LeaderClientKeyFile: "k.pem"},
		{AutoJoinDNS: "coffer.svc"},
		{AutoJoinDNS: "coffer-api.svc", AutoJoinScheme: "http", AutoJoinPort: 8300},
	}
	if !reflect.DeepEqual(c.Storage.RetryJoin, want) {
		t.Errorf("RetryJoin = %+v, want %+v", c.Storage.RetryJoin, want)
	}
}
