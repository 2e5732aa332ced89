package netctl

import (
	"errors"
	"net/netip"
	"testing"
)

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func TestClientIP(t *testing.T) {
	proxy := prefixes("127.0.0.3/32", "10.9.0.0/16")
	for _, tc := range []struct {
		name    string
		xff     ForwardedFor
		peer    string
		headers []string
		want    string
		wantErr bool
	}{
		{name: "no proxies: header ignored", peer: "127.0.0.2:5000", headers: []string{"203.0.113.7"}, want: "127.0.0.2"},
		{name: "trusted proxy", xff: ForwardedFor{AuthorizedAddrs: proxy}, peer: "127.0.0.3:1", headers: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "rightmost wins", xff: ForwardedFor{AuthorizedAddrs: proxy}, peer: "127.0.0.3:1", headers: []string{"6.6.6.6, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "hop skips", xff: ForwardedFor{AuthorizedAddrs: proxy, HopSkips: 1}, peer: "10.9.1.1:1", headers: []string{"203.0.113.7, 10.9.2.2"}, want: "203.0.113.7"},
		{name: "several headers", xff: ForwardedFor{AuthorizedAddrs: proxy, HopSkips: 1}, peer: "10.9.1.1:1", headers: []string{"203.0.113.7", "10.9.2.2"}, want: "203.0.113.7"},
		{name: "too many hop skips", xff: ForwardedFor{AuthorizedAddrs: proxy, HopSkips: 2}, peer: "127.0.0.3:1", headers: []string{"203.0.113.7"}, wantErr: true},
		{name: "spoofed from untrusted peer ignored", xff: ForwardedFor{AuthorizedAddrs: proxy}, peer: "127.0.0.2:1", headers: []string{"203.0.113.7"}, want: "127.0.0.2"},
		{name: "spoofed from untrusted peer rejected", xff: ForwardedFor{AuthorizedAddrs: proxy, RejectNotAuthorized: true}, peer: "127.0.0.2:1", headers: []string{"203.0.113.7"}, wantErr: true},
		{name: "missing header allowed", xff: ForwardedFor{AuthorizedAddrs: proxy}, peer: "127.0.0.3:1", want: "127.0.0.3"},
		{name: "missing header rejected", xff: ForwardedFor{AuthorizedAddrs: proxy, RejectNotPresent: true}, peer: "127.0.0.2:1", wantErr: true},
		{name: "port and brackets", xff: ForwardedFor{AuthorizedAddrs: proxy}, peer: "127.0.0.3:1", headers: []string{"[2001:db8::7]:443"}, want: "2001:db8::7"},
		{name: "garbage entry", xff: ForwardedFor{AuthorizedAddrs: proxy}, peer: "127.0.0.3:1", headers: []string{"evil"}, wantErr: true},
		{name: "mapped peer", peer: "[::ffff:127.0.0.2]:80", want: "127.0.0.2"},
		{name: "ipv6 peer", peer: "[::1]:80", want: "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewListener(ListenerConfig{ForwardedFor: tc.xff})
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.ClientIP(tc.peer, tc.headers)
			if tc.wantErr {
				if !errors.Is(err, ErrForwardedFor) {
					t.Fatalf("ClientIP = %v, %v; want ErrForwardedFor", got, err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("ClientIP = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestListenerAllow(t *testing.T) {
	l, err := NewListener(ListenerConfig{
		AllowedCIDRs: prefixes("127.0.0.0/8", "203.0.113.0/24", "10.0.0.0/8"),
		PathRules: []PathRule{
			{Prefix: "sys/*", AllowedCIDRs: prefixes("203.0.113.7/32", "10.0.0.0/8")},
			{Prefix: "/auth/token/create", AllowedCIDRs: prefixes("10.0.0.0/8")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ip, path string
		ok       bool
	}{
		{"127.0.0.2", "secret/data/x", true},
		{"127.0.0.2", "sys/mounts", false},
		{"127.0.0.2", "sys", false},
		{"127.0.0.2", "secret/../sys/mounts", false},
		{"127.0.0.2", "system-like/x", true},
		{"203.0.113.7", "sys/mounts", true},
		{"203.0.113.8", "sys/policies/acl/x", false},
		{"10.1.2.3", "sys/mounts", true},
		{"203.0.113.7", "auth/token/create", false},
		{"10.1.2.3", "auth/token/create-orphan", true},
		{"192.0.2.1", "secret/data/x", false},
	} {
		t.Run(tc.ip+" "+tc.path, func(t *testing.T) {
			err := l.Allow(netip.MustParseAddr(tc.ip), tc.path)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrNotAllowed)) {
				t.Fatalf("Allow = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := NewListener(ListenerConfig{PathRules: []PathRule{{Prefix: "*"}}}); err == nil {
		t.Error("an empty path-rule prefix was accepted")
	}
}

// FuzzClientIP checks that X-Forwarded-For parsing never panics, that a
// header is only honoured from the trusted proxy, and that every resolved
// address is valid.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "6.6.6.6, 203.0.113.7", "[2001:db8::7]:443", "", ",,, ,", "evil", "1.2.3.4:99999", "fe80::1%eth0"} {
		f.Add("127.0.0.3:1", s, uint8(0))
		f.Add("127.0.0.2:1", s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, peer, header string, hops uint8) {
		l, err := NewListener(ListenerConfig{ForwardedFor: ForwardedFor{
			AuthorizedAddrs: prefixes("127.0.0.3/32"), HopSkips: int(hops % 4)}})
		if err != nil {
			t.Fatal(err)
		}
		ip, err := l.ClientIP(peer, []string{header})
		if err != nil {
			return
		}
		if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() {
			t.Fatalf("ClientIP(%q, %q) = %v", peer, header, ip)
		}
		p, perr := parsePeer(peer)
		if perr == nil && p != netip.MustParseAddr("127.0.0.3") && ip != p {
			t.Fatalf("header %q from untrusted peer %q changed the client to %v", header, peer, ip)
		}
	})
}
