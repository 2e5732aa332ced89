package cluster

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/config"
)

// fakeDNS answers lookups from a table; unknown names fail.
func fakeDNS(table map[string][]string) func(context.Context, string) ([]net.IPAddr, error) {
	return func(_ context.Context, host string) ([]net.IPAddr, error) {
		addrs, ok := table[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		var out []net.IPAddr
		for _, a := range addrs {
			ip, zone, _ := strings.Cut(a, "%")
			out = append(out, net.IPAddr{IP: net.ParseIP(ip), Zone: zone})
		}
		return out, nil
	}
}

func TestTargets(t *testing.T) {
	dir := t.TempDir()
	dns := fakeDNS(map[string][]string{
		"coffer.svc": {"10.0.0.1", "fd00::2"},
		"link.local": {"fe80::1%eth0"},
		"empty.svc":  {},
	})
	tests := []struct {
		name    string
		joins   []config.RetryJoin
		want    []string // API addresses
		wantErr string
	}{
		{name: "leader address", joins: []config.RetryJoin{{LeaderAPIAddr: "https://n1:8200"}}, want: []string{"https://n1:8200"}},
		{name: "dns default scheme and port", joins: []config.RetryJoin{{AutoJoinDNS: "coffer.svc"}},
			want: []string{"https://10.0.0.1:8200", "https://[fd00::2]:8200"}},
		{name: "dns scheme and port", joins: []config.RetryJoin{{AutoJoinDNS: "coffer.svc", AutoJoinScheme: "http", AutoJoinPort: 8300}},
			want: []string{"http://10.0.0.1:8300", "http://[fd00::2]:8300"}},
		{name: "zone", joins: []config.RetryJoin{{AutoJoinDNS: "link.local"}}, want: []string{"https://[fe80::1%25eth0]:8200"}},
		{name: "in order", joins: []config.RetryJoin{{LeaderAPIAddr: "https://n9:8200"}, {AutoJoinDNS: "coffer.svc"}},
			want: []string{"https://n9:8200", "https://10.0.0.1:8200", "https://[fd00::2]:8200"}},
		{name: "lookup fails, others kept", joins: []config.RetryJoin{{AutoJoinDNS: "nope.svc"}, {LeaderAPIAddr: "https://n1:8200"}},
			want: []string{"https://n1:8200"}, wantErr: `retry_join[0]: auto_join_dns "nope.svc": no such host`},
		{name: "no addresses", joins: []config.RetryJoin{{AutoJoinDNS: "empty.svc"}}, wantErr: "no addresses"},
		{name: "missing file", joins: []config.RetryJoin{{LeaderAPIAddr: "https://n1:8200", LeaderCACertFile: filepath.Join(dir, "none.pem")}},
			wantErr: "retry_join[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Targets(context.Background(), tt.joins, dns)
			var addrs []string
			for _, l := range got {
				addrs = append(addrs, l.APIAddr)
			}
			if !slices.Equal(addrs, tt.want) {
				t.Errorf("addresses = %q, want %q", addrs, tt.want)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestTargetsReadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, cert, key := write("ca.pem", "CA"), write("c.pem", "CERT"), write("k.pem", "KEY")
	dns := fakeDNS(map[string][]string{"coffer.svc": {"10.0.0.1", "fd00::2"}})
	got, err := Targets(context.Background(), []config.RetryJoin{
		{AutoJoinDNS: "coffer.svc", LeaderCACertFile: ca, LeaderClientCertFile: cert, LeaderClientKeyFile: key},
	}, dns)
	if err != nil || len(got) != 2 {
		t.Fatalf("Targets with files = %v, %v", got, err)
	}
	for _, l := range got {
		if string(l.CACertPEM) != "CA" || string(l.ClientCertPEM) != "CERT" || string(l.ClientKeyPEM) != "KEY" {
			t.Errorf("%s does not carry the block's files", l.APIAddr)
		}
	}
}
