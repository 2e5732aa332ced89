package lease

import (
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// FuzzValidateID checks that every id or prefix the validators accept is a
// valid storage key under the lease folder and never escapes it.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"database/creds/ro/ABC", "db/", "../x", "a//b", "/a", "a\x00b", "", "db/creds/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateID(s) == nil {
			if storage.ValidateKey(leasePrefix+s) != nil || strings.Contains(s, "..") || strings.HasSuffix(s, "/") {
				t.Fatalf("ValidateID accepted %q", s)
			}
		}
		if ValidatePrefix(s) == nil {
			if storage.ValidatePrefix(leasePrefix+s) != nil || strings.Contains(s, "..") || strings.HasPrefix(s, "/") {
				t.Fatalf("ValidatePrefix accepted %q", s)
			}
		}
	})
}

// FuzzExpiryKey checks that index keys sort like their times and parse back.
func FuzzExpiryKey(f *testing.F) {
	f.Add(int64(0), int64(1), "a/b/c")
	f.Add(int64(1795000000123456789), int64(1795000000123456790), "db/creds/r/X")
	f.Fuzz(func(t *testing.T, a, b int64, id string) {
		if a < 0 || b < 0 {
			return
		}
		ka, kb := expiryKey(time.Unix(0, a), id), expiryKey(time.Unix(0, b), id)
		got, err := parseExpiryKey(ka)
		if err != nil || got.UnixNano() != a {
			t.Fatalf("parse(%q) = %v, %v; want %d", ka, got, err, a)
		}
		if (a < b) != (ka < kb) {
			t.Fatalf("order of %d,%d differs from %q,%q", a, b, ka, kb)
		}
	})
}
