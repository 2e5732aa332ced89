package database

import (
	"strings"
	"testing"
	"time"
)

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := generatePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != passwordLength || strings.Trim(p, passwordChars) != "" ||
			!strings.ContainsAny(p, lowerChars) || !strings.ContainsAny(p, upperChars) ||
			!strings.ContainsAny(p, digitChars) || !strings.Contains(p, "-") {
			t.Fatalf("password %q breaks the default policy", p)
		}
		if seen[p] {
			t.Fatalf("password %q repeated", p)
		}
		seen[p] = true
	}
}

func TestGenerateUsername(t *testing.T) {
	now := func() time.Time { return time.Unix(1700000000, 0) }
	tests := []struct {
		name, tmpl, display, role string
		wantPrefix                string
		wantLen                   int
		wantErr                   bool
	}{
		{"default", "", "token", "readonly", "v-token-readonly-", len("v-token-readonly-") + 20 + 1 + 10, false},
		{"default truncates", "", "a-very-long-display", "a-very-long-role", "v-a-very-l-a-very-l-", 0, false},
		{"sanitised", "", `x";DROP`, "r", "v-x--DROP-r-", 0, false},
		{"custom", `{{ .RoleName | uppercase }}_{{ unix_time }}`, "t", "app", "APP_1700000000", len("APP_1700000000"), false},
		{"too long", `{{ printf "%070d" 1 }}`, "t", "r", "", 0, true},
		{"bad random", `{{ random 0 }}`, "t", "r", "", 0, true},
		{"unknown field", `{{ .Nope }}`, "t", "r", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := generateUsername(tc.tmpl, now, tc.display, tc.role)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !strings.HasPrefix(got, tc.wantPrefix) || (tc.wantLen > 0 && len(got) != tc.wantLen) || !validUsername.MatchString(got) {
				t.Fatalf("username %q, want prefix %q and length %d", got, tc.wantPrefix, tc.wantLen)
			}
		})
	}
}

// FuzzUsernameTemplate checks that any template from a client either fails
// cleanly or yields a username safe to paste into a quoted SQL identifier.
func FuzzUsernameTemplate(f *testing.F) {
	f.Add(defaultUsernameTemplate, "token", "role")
	f.Add(`{{ .DisplayName }}`, `a"b`, "r")
	f.Add(`{{ replace "a" "\"" .RoleName }}`, "t", "aaa")
	f.Fuzz(func(t *testing.T, tmpl, display, role string) {
		if len(tmpl) > 512 || strings.Contains(tmpl, "%") {
			return // printf widths could allocate without bound; not a template-safety question
		}
		now := func() time.Time { return time.Unix(1700000000, 0) }
		got, err := generateUsername(tmpl, now, display, role)
		if err == nil && (!validUsername.MatchString(got) || strings.ContainsAny(got, `"';`)) {
			t.Fatalf("unsafe username %q from %q", got, tmpl)
		}
	})
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		in   []string
		want int
	}{
		{[]string{"CREATE ROLE a; GRANT x TO a;"}, 2},
		{[]string{"a", " ; ", "b;c"}, 3},
		{[]string{"DO $$ BEGIN x; y; END $$"}, 1},
		{nil, 0},
	}
	for _, tc := range tests {
		if got := splitStatements(tc.in); len(got) != tc.want {
			t.Errorf("splitStatements(%q) = %q, want %d statements", tc.in, got, tc.want)
		}
	}
}
