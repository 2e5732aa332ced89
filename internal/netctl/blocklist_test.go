package netctl

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fireholSample is the head of a FireHOL .netset file, as published.
const fireholSample = `#
# firehol_level1
#
# ipv4 hash:net ipset
#
# Source URL: https://iplists.firehol.org/
#
0.0.0.0/8
1.10.16.0/20
5.134.128.0/19
223.254.0.0/16
`

// crowdsecSample is a CrowdSec blocklist-mirror plain-text export.
const crowdsecSample = "192.0.2.10\r\n198.51.100.7\r\n2001:db8::dead\r\n"

func TestParseBlocklist(t *testing.T) {
	for _, tc := range []struct {
		name    string
		src     string
		in, out []string
		badLine []int
	}{
		{name: "firehol", src: fireholSample, in: []string{"1.10.16.1", "5.134.159.255", "0.1.2.3"}, out: []string{"1.10.32.0", "8.8.8.8"}},
		{name: "crowdsec", src: crowdsecSample, in: []string{"192.0.2.10", "2001:db8::dead"}, out: []string{"192.0.2.11"}},
		{name: "spamhaus drop", src: "; Spamhaus DROP List\n1.10.16.0/20 ; SBL256894\n", in: []string{"1.10.20.20"}},
		{name: "bom and range", src: "\xef\xbb\xbf198.51.100.10-198.51.100.20\n", in: []string{"198.51.100.15"}, out: []string{"198.51.100.21"}},
		{name: "bad lines skipped", src: "10.0.0.1\nnot-an-ip\n10.0.0.0/33\n10.0.0.9 10.0.0.10\n9.9.9.9-1.1.1.1\n10.0.0.2 # ok\n",
			in: []string{"10.0.0.1", "10.0.0.2"}, out: []string{"10.0.0.9"}, badLine: []int{2, 3, 4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, bad, err := ParseBlocklist(strings.NewReader(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, b := range bad {
				lines = append(lines, b.Line)
			}
			if len(lines) != len(tc.badLine) || (len(lines) > 0 && !equalInts(lines, tc.badLine)) {
				t.Errorf("bad lines = %v, want %v", lines, tc.badLine)
			}
			for _, a := range tc.in {
				if !set.Contains(netip.MustParseAddr(a)) {
					t.Errorf("%s not blocked", a)
				}
			}
			for _, a := range tc.out {
				if set.Contains(netip.MustParseAddr(a)) {
					t.Errorf("%s blocked", a)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestParseBlocklistLongLine(t *testing.T) {
	_, _, err := ParseBlocklist(strings.NewReader(strings.Repeat("1", maxBlocklistLine+10)))
	if err == nil {
		t.Fatal("a line over the limit was accepted")
	}
}

// FuzzParseBlocklist checks the parser never panics and that every address
// written on a line of its own is in the set it returns.
func FuzzParseBlocklist(f *testing.F) {
	for _, s := range []string{fireholSample, crowdsecSample, "1.2.3.4-1.2.3.9\n", "::1/128 # x\n", "; c\n\n10.0.0.0/8\n", "::ffff:1.2.3.4/120\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		set, bad, err := ParseBlocklist(bytes.NewReader(src))
		if err != nil {
			return
		}
		badSet := map[int]bool{}
		for _, b := range bad {
			badSet[b.Line] = true
		}
		for i, line := range strings.Split(string(src), "\n") {
			a, perr := netip.ParseAddr(strings.TrimSpace(line))
			if perr != nil || badSet[i+1] || (i == 0 && strings.HasPrefix(line, "\xef\xbb\xbf")) {
				continue
			}
			if a.Zone() == "" && !set.Contains(a) {
				t.Fatalf("line %d address %s missing from the set", i+1, a)
			}
		}
	})
}

func TestBlocklistReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "block.netset")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("192.0.2.1\n")
	c, err := New(Options{BlocklistFile: path, BlocklistReloadInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if err := c.CheckAddr(a1); err != ErrBlocked {
		t.Fatalf("CheckAddr(listed) = %v, want ErrBlocked", err)
	}
	write("# now two\n192.0.2.1\n192.0.2.2\n")
	waitFor(t, func() bool { return c.CheckAddr(a2) == ErrBlocked })
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := c.ReloadBlocklist(); err == nil {
		t.Error("reload of a missing file did not fail")
	}
	if c.CheckAddr(a2) != ErrBlocked {
		t.Error("an unreadable file dropped the previous list")
	}
	write("192.0.2.1\n")
	if err := c.ReloadBlocklist(); err != nil {
		t.Fatal(err)
	}
	if c.CheckAddr(a2) != nil || c.CheckAddr(a1) != ErrBlocked {
		t.Error("explicit reload did not apply the new list")
	}
}

func TestNewMissingBlocklist(t *testing.T) {
	if _, err := New(Options{BlocklistFile: filepath.Join(t.TempDir(), "absent")}); err == nil {
		t.Fatal("New with a missing blocklist file succeeded")
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
