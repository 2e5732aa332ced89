package netctl

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestCIDRSetContains(t *testing.T) {
	set := NewCIDRSet([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("10.1.0.0/16"), // inside the first: merged
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("192.0.2.8/31"), // adjacent: merged
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("::ffff:203.0.113.0/120"), // IPv4-mapped: an IPv4 range
	})
	if got := set.Len(); got != 4 {
		t.Errorf("Len = %d, want 4 merged ranges", got)
	}
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"10.0.0.0", true}, {"10.255.255.255", true}, {"11.0.0.0", false}, {"9.255.255.255", false},
		{"192.0.2.6", false}, {"192.0.2.7", true}, {"192.0.2.9", true}, {"192.0.2.10", false},
		{"2001:db8::1", true}, {"2001:db9::", false}, {"::ffff:10.2.3.4", true},
		{"203.0.113.200", true}, {"203.0.114.0", false}, {"fe80::1%eth0", false}, {"0.0.0.0", false},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			if got := set.Contains(netip.MustParseAddr(tc.ip)); got != tc.want {
				t.Errorf("Contains(%s) = %v, want %v", tc.ip, got, tc.want)
			}
		})
	}
	var empty *CIDRSet
	if empty.Contains(netip.MustParseAddr("10.0.0.1")) {
		t.Error("nil set contains an address")
	}
}

func TestLastAddr(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"10.0.0.0/8", "10.255.255.255"}, {"192.0.2.4/30", "192.0.2.7"}, {"0.0.0.0/0", "255.255.255.255"},
		{"1.2.3.4/32", "1.2.3.4"}, {"2001:db8::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff"}, {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			if got := lastAddr(netip.MustParsePrefix(tc.prefix)); got.String() != tc.want {
				t.Errorf("lastAddr = %s, want %s", got, tc.want)
			}
		})
	}
}

// bigBlocklist is n distinct /32 and /24 entries in blocklist format.
func bigBlocklist(n int) string {
	var b strings.Builder
	b.WriteString("# generated\n")
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&b, "%d.%d.%d.%d\n", 1+i%200, (i>>8)&255, i&255, (i*7)&255)
		} else {
			fmt.Fprintf(&b, "%d.%d.%d.0/24 ; entry\n", 1+i%200, (i>>4)&255, (i>>12)&255)
		}
	}
	return b.String()
}

func BenchmarkBlocklistContains100k(b *testing.B) {
	set, bad, err := ParseBlocklist(strings.NewReader(bigBlocklist(100_000)))
	if err != nil || len(bad) > 0 {
		b.Fatalf("parse: %v %v", err, bad)
	}
	ips := []netip.Addr{netip.MustParseAddr("5.6.7.8"), netip.MustParseAddr("250.1.1.1"), netip.MustParseAddr("2001:db8::1")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		set.Contains(ips[i%len(ips)])
	}
}

func BenchmarkParseBlocklist100k(b *testing.B) {
	src := bigBlocklist(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseBlocklist(strings.NewReader(src)); err != nil {
			b.Fatal(err)
		}
	}
}
