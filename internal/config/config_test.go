package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustParse parses src named test.hcl and fails the test on error.
func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("test.hcl", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\nsource:\n%s", err, src)
	}
	return c
}

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// fullConfig is what testdata/full.hcl and full.json decode to.
func fullConfig(t *testing.T) *Config {
	return &Config{
		Storage: Storage{
			Type:    "raft",
			Options: map[string]string{"path": "/var/lib/coffer", "node_id": "coffer-1"},
			RetryJoin: []RetryJoin{
				{
					LeaderAPIAddr:        "https://coffer-2.internal:8200",
					LeaderCACertFile:     "/etc/coffer/tls/ca.pem",
					LeaderClientCertFile: "/etc/coffer/tls/client.pem",
					LeaderClientKeyFile:  "/etc/coffer/tls/client-key.pem",
				},
				{AutoJoinDNS: "coffer.internal"},
			},
		},
		Listeners: []Listener{
			{
				Type: "tcp", Address: "0.0.0.0:8200",
				TLSCertFile: "/etc/coffer/tls/server.pem", TLSKeyFile: "/etc/coffer/tls/server-key.pem",
				TLSMinVersion: "tls13", TLSClientCAFile: "/etc/coffer/tls/ca.pem",
				RedirectAddress: "0.0.0.0:8080",
				MaxRequestSize:  16777216, MaxRequestDuration: 30 * time.Second,
				XForwardedForAuthorizedAddrs: prefixes(t, "10.0.0.0/8", "192.168.1.10/32"),
				AllowedCIDRs:                 prefixes(t, "10.0.0.0/8", "172.16.0.0/12", "::1/128"),
				XForwardedForHopSkips:        1,
				PathRules: []PathRule{
					{Prefix: "sys/*", AllowedCIDRs: prefixes(t, "10.1.0.0/16", "172.16.0.7/32")},
					{Prefix: "auth/token/create", AllowedCIDRs: prefixes(t, "10.1.0.0/16")},
				},
			},
			{
				Type: "tcp", Address: "127.0.0.1:8300", TLSDisable: true, TLSMinVersion: "tls12",
				MaxRequestSize: 32 << 20, MaxRequestDuration: 90 * time.Second,
				XForwardedForRejectNotAuthorized: true, XForwardedForRejectNotPresent: true,
			},
		},
		Seal: &Seal{Type: "static", Options: map[string]string{"key_file": "/etc/coffer/unseal.key"}},
		Audit: []Audit{
			{Type: "file", Name: "file", Options: map[string]string{"path": "/var/log/coffer/audit.log", "mode": "0600"}},
			{Type: "socket", Name: "siem", Options: map[string]string{"address": "siem.internal:9090", "socket_type": "tcp"}},
			{Type: "stdout", Name: "stdout", Options: map[string]string{}},
		},
		APIAddr:         "https://coffer-1.internal:8200",
		ClusterAddr:     "https://coffer-1.internal:8201",
		UI:              true,
		LogLevel:        "debug",
		LogFormat:       "json",
		DefaultLeaseTTL: 24 * time.Hour,
		MaxLeaseTTL:     30 * 24 * time.Hour,
		DisableMlock:    true,
		GCHeapFloor:     64 << 20,
		UserLockouts: []UserLockout{
			{AuthType: "all", Threshold: 5, Duration: 15 * time.Minute, CounterReset: 15 * time.Minute},
			{AuthType: "approle", Threshold: 5, Duration: 15 * time.Minute, CounterReset: 15 * time.Minute, Disable: true},
		},
		Network: Network{BlocklistFile: "/etc/coffer/blocklist.netset", BlocklistReloadInterval: 10 * time.Second,
			BanThreshold: 20, BanWindow: 5 * time.Minute, BanDuration: time.Hour},
	}
}

func TestLoadFullExample(t *testing.T) {
	for _, file := range []string{"testdata/full.hcl", "testdata/full.json"} {
		t.Run(file, func(t *testing.T) {
			got, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if want := fullConfig(t); !reflect.DeepEqual(got, want) {
				t.Errorf("Load(%s) =\n%+v\nwant\n%+v", file, got, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte("storage \"inmem\" {}\nui = maybe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		invalid bool
		is      error
		msg     string
	}{
		{"missing file", filepath.Join(dir, "none.hcl"), false, fs.ErrNotExist, "none.hcl"},
		{"invalid file names the path", bad, true, ErrInvalid, bad + ":2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.path)
			if err == nil {
				t.Fatalf("Load = %+v, want error", c)
			}
			if !errors.Is(err, tt.is) || errors.Is(err, ErrInvalid) != tt.invalid {
				t.Errorf("Load error %v: Is(%v) false or Is(ErrInvalid) != %v", err, tt.is, tt.invalid)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Load error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	want := &Config{
		LogLevel: "info", LogFormat: "text",
		DefaultLeaseTTL: 768 * time.Hour, MaxLeaseTTL: 768 * time.Hour,
		Network: DefaultNetwork(), GCHeapFloor: 32 << 20,
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	if err := Default().Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Default().Validate() = %v, want ErrInvalid (no storage, no listener)", err)
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	c := mustParse(t, "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n}\n")
	want := &Config{
		Storage:         Storage{Type: "inmem", Options: map[string]string{}},
		Listeners:       []Listener{DefaultListener()},
		LogLevel:        "info",
		LogFormat:       "text",
		DefaultLeaseTTL: 768 * time.Hour,
		MaxLeaseTTL:     768 * time.Hour,
		Network:         DefaultNetwork(),
		GCHeapFloor:     32 << 20,
	}
	want.Listeners[0].TLSDisable = true
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse = %+v\nwant %+v", c, want)
	}
	l := c.Listeners[0]
	if l.Address != "127.0.0.1:8200" || l.TLSMinVersion != "tls12" ||
		l.MaxRequestSize != 33554432 || l.MaxRequestDuration != 90*time.Second {
		t.Errorf("listener defaults = %+v", l)
	}
}

func TestDevConfig(t *testing.T) {
	tests := []struct {
		name, addr, wantAddr string
	}{
		{"explicit address", "127.0.0.1:18200", "127.0.0.1:18200"},
		{"empty address uses default", "", "127.0.0.1:8200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DevConfig(tt.addr)
			if err := c.Validate(); err != nil {
				t.Fatalf("DevConfig(%q).Validate() = %v", tt.addr, err)
			}
			if c.Storage.Type != "inmem" || c.LogLevel != "info" || c.Seal != nil {
				t.Errorf("DevConfig = %+v", c)
			}
			if len(c.Listeners) != 1 || !c.Listeners[0].TLSDisable || c.Listeners[0].Address != tt.wantAddr {
				t.Errorf("DevConfig listeners = %+v, want one tls_disable listener on %s", c.Listeners, tt.wantAddr)
			}
			if c.APIAddr != "http://"+tt.wantAddr {
				t.Errorf("DevConfig APIAddr = %q", c.APIAddr)
			}
		})
	}
}
