package approle

import (
	"encoding/json"
	"maps"
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseMetadata checks metadata parsing never panics, yields only
// non-empty keys and values, and that a parsed result survives a JSON
// round trip unchanged.
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"", `{"a":"b"}`, "eyJhIjoiYiJ9", "a=b,c=d", "a=", "=b", `{"a":1}`, "{", "null", "  ", `{"":""}`, "a=b=c", "YQ=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := parseMetadata(in)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || v == "" {
				t.Fatalf("empty key or value in %q: %v", in, m)
			}
		}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseMetadata(string(raw))
		if err != nil && len(m) > 0 {
			t.Fatalf("re-parse of %s: %v", raw, err)
		}
		if len(m) > 0 && !maps.Equal(m, back) {
			t.Fatalf("round trip %v != %v", m, back)
		}
	})
}

// FuzzParseCIDRList checks CIDR list parsing never panics, that an accepted
// list always lies within its bounds, and that every list is within itself.
func FuzzParseCIDRList(f *testing.F) {
	seeds := [][2]string{
		{"10.0.0.0/8", "10.1.0.0/16"}, {"", "1.2.3.4"}, {"10.0.0.0/8", "11.0.0.0/8"},
		{"::/0", "fd00::1"}, {"0.0.0.0/0", "::ffff:1.2.3.4"}, {"10.0.0.0/33", "x"}, {"1.2.3.4,5.6.7.8/30", " 5.6.7.9 ,"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, bounds, list string) {
		b, err := parseCIDRList("bounds", strings.Split(bounds, ","), nil)
		if err != nil {
			return
		}
		if _, err := parseCIDRList("self", strings.Split(bounds, ","), b); err != nil {
			t.Fatalf("%q not within itself: %v", bounds, err)
		}
		got, err := parseCIDRList("list", strings.Split(list, ","), b)
		if err != nil {
			return
		}
		for _, c := range got {
			if len(b) > 0 && !within(c, b) {
				t.Fatalf("%s accepted outside %v", c, b)
			}
			if len(b) > 0 && !containsAny(b, c.Addr()) {
				t.Fatalf("first address of %s not in %v", c, b)
			}
		}
	})
}

func containsAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
