package policy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/policy"
)

// mustACL parses name=text pairs and compiles them.
func mustACL(t testing.TB, nameText ...string) *policy.ACL {
	t.Helper()
	var ps []*policy.Policy
	for i := 0; i < len(nameText); i += 2 {
		ps = append(ps, mustParse(t, nameText[i], nameText[i+1]))
	}
	a, err := policy.NewACL(ps...)
	if err != nil {
		t.Fatalf("NewACL: %v", err)
	}
	return a
}

// rules builds a policy with one read-capable block per pattern.
func rules(patterns ...string) string {
	var b strings.Builder
	for _, p := range patterns {
		b.WriteString(`path "` + p + `" { capabilities = ["read"] }` + "\n")
	}
	return b.String()
}

func TestPriority(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		path     string
		want     string // the deciding rule
	}{
		{"exact beats prefix and plus", []string{"secret/foo*", "secret/+", "secret/foo", "secret/*"}, "secret/foo", "secret/foo"},
		{"longest prefix", []string{"secret/*", "secret/a/*", "secret/a/b*"}, "secret/a/bc", "secret/a/b*"},
		{"1: later first wildcard (glob vs plus)", []string{"foo/+", "foo/a*"}, "foo/ab", "foo/a*"},
		{"1: later first wildcard (plus vs plus)", []string{"foo/+/bar/baz", "foo/bar/+/baz"}, "foo/bar/bar/baz", "foo/bar/+/baz"},
		{"1: later first wildcard (plus after prefix)", []string{"secret/*", "secret/data/+/x"}, "secret/data/a/x", "secret/data/+/x"},
		{"2: no trailing star beats star", []string{"foo/+/ba*", "foo/+/bar"}, "foo/x/bar", "foo/+/bar"},
		{"2: plus beats star at same position", []string{"foo/*", "foo/+"}, "foo/x", "foo/+"},
		{"2: plus rule beats prefix rule", []string{"secret/*", "secret/+/x"}, "secret/a/x", "secret/+/x"},
		{"3: fewer plus segments", []string{"foo/+/+/baz", "foo/+/bar/baz"}, "foo/x/bar/baz", "foo/+/bar/baz"},
		{"4: longer wins", []string{"foo/+/bar/b*", "foo/+/bar/ba*"}, "foo/x/bar/baz", "foo/+/bar/ba*"},
		{"5: lexicographically larger wins", []string{"a/+/+/c", "a/+/b/+"}, "a/x/b/c", "a/+/b/+"},
		{"5: order of policies does not matter", []string{"a/+/b/+", "a/+/+/c"}, "a/x/b/c", "a/+/b/+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustACL(t, "p", rules(tt.patterns...))
			res := a.Check("read", tt.path, nil, 0)
			if !res.Allowed || res.Rule != tt.want {
				t.Errorf("Check(%q) = %+v, want rule %q", tt.path, res, tt.want)
			}
		})
	}
}

func TestMatching(t *testing.T) {
	tests := []struct {
		pattern string
		path    string
		want    bool
	}{
		{"secret/foo", "secret/foo", true},
		{"secret/foo", "secret/foo/", false},
		{"secret/foo", "/secret/foo", true},
		{"secret/*", "secret/", true},
		{"secret/*", "secret/a/b/c", true},
		{"secret/*", "secret", false},
		{"secret/a*", "secret/abc/d", true},
		{"*", "anything/at/all", true},
		{"secret/+/x", "secret/a/x", true},
		{"secret/+/x", "secret/a/b/x", false},
		{"secret/+/x", "secret//x", false},
		{"secret/+/x", "secret/a/x/y", false},
		{"secret/+", "secret/", false},
		{"+/x", "a/x", true},
		{"secret/+/team-*", "secret/a/team-ops/db", true},
		{"secret/+/team-*", "secret/a/ops", false},
		{"secret/+/*", "secret/a/", true},
		{"secret/+/*", "secret/a", false},
		{"secret/+/+", "secret/a/b", true},
		{"secret/data/{{identity.entity.id}}", "secret/data/{{identity.entity.id}}", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			a := mustACL(t, "p", rules(tt.pattern))
			if got := a.Check("read", tt.path, nil, 0).Allowed; got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckOperations(t *testing.T) {
	a := mustACL(t, "ops", `
path "secret/*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }
path "secret/ro" { capabilities = ["read"] }
path "sys/mounts/*" { capabilities = ["sudo"] }
path "sys/raw/*" { capabilities = ["read", "sudo"] }
path "secret/none" { capabilities = [] }
path "secret/closed/*" { capabilities = ["deny"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`)
	tests := []struct {
		op, path   string
		allowed    bool
		sudo       bool
		rule       string
		reasonPart string
	}{
		{"read", "secret/x", true, false, "secret/*", ""},
		{"create", "secret/x", true, false, "secret/*", ""},
		{"patch", "secret/x", true, false, "secret/*", ""},
		{"delete", "secret/x", true, false, "secret/*", ""},
		{"list", "secret/", true, false, "secret/*", ""},
		{"update", "secret/ro", false, false, "secret/ro", `no policy grants update on "secret/ro"`},
		{"read", "secret/ro", true, false, "secret/ro", ""},
		{"read", "sys/mounts/x", false, true, "sys/mounts/*", "no policy grants read"},
		{"read", "sys/raw/x", true, true, "sys/raw/*", ""},
		{"read", "secret/none", false, false, "secret/none", "no policy grants read"},
		{"read", "secret/closed/x", false, false, "secret/closed/*", "explicitly denied"},
		{"read", "other/x", false, false, "", `no policy grants read on "other/x"`},
		{"revoke", "sys/leases/revoke", true, false, "sys/leases/revoke", ""},
		{"renew", "sys/leases/revoke", true, false, "sys/leases/revoke", ""},
		{"frobnicate", "secret/x", false, false, "", `unknown operation "frobnicate"`},
		{"help", "anything", true, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.path, func(t *testing.T) {
			res := a.Check(tt.op, tt.path, nil, 0)
			if res.Allowed != tt.allowed || res.Sudo != tt.sudo || res.Rule != tt.rule {
				t.Errorf("got %+v, want allowed=%v sudo=%v rule=%q", res, tt.allowed, tt.sudo, tt.rule)
			}
			if !strings.Contains(res.Reason, tt.reasonPart) || (tt.allowed && res.Reason != "") {
				t.Errorf("reason %q, want it to contain %q", res.Reason, tt.reasonPart)
			}
		})
	}
}

func TestListTrailingSlash(t *testing.T) {
	a := mustACL(t, "p", `
path "secret/metadata/app" { capabilities = ["list"] }
path "kv/metadata/*" { capabilities = ["list"] }
path "kv/metadata/team/" { capabilities = ["read"] }
`)
	tests := []struct {
		op, path string
		want     bool
		rule     string
	}{
		{"list", "secret/metadata/app/", true, "secret/metadata/app"},
		{"read", "secret/metadata/app/", false, ""},
		{"list", "kv/metadata/team/", false, "kv/metadata/team/"},
		{"list", "kv/metadata/other/", true, "kv/metadata/*"},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.path, func(t *testing.T) {
			res := a.Check(tt.op, tt.path, nil, 0)
			if res.Allowed != tt.want || res.Rule != tt.rule {
				t.Errorf("got %+v, want allowed=%v rule %q", res, tt.want, tt.rule)
			}
		})
	}
}

func TestMergeAcrossPolicies(t *testing.T) {
	tests := []struct {
		name     string
		policies []string // name, text pairs
		op, path string
		data     map[string]any
		wrap     time.Duration
		allowed  bool
		policy   string
	}{
		{"capabilities union: first", []string{
			"a", `path "s/*" { capabilities = ["read"] }`,
			"b", `path "s/*" { capabilities = ["list"] }`,
		}, "read", "s/x", nil, 0, true, "a"},
		{"capabilities union: second", []string{
			"a", `path "s/*" { capabilities = ["read"] }`,
			"b", `path "s/*" { capabilities = ["list"] }`,
		}, "list", "s/x", nil, 0, true, "b"},
		{"both grant", []string{
			"b", `path "s/*" { capabilities = ["read"] }`,
			"a", `path "s/*" { capabilities = ["read", "list"] }`,
		}, "read", "s/x", nil, 0, true, "a,b"},
		{"deny wins after", []string{
			"a", `path "s/*" { capabilities = ["read"] }`,
			"b", `path "s/*" { capabilities = ["deny"] }`,
		}, "read", "s/x", nil, 0, false, "b"},
		{"deny wins before", []string{
			"b", `path "s/*" { capabilities = ["deny"] }`,
			"a", `path "s/*" { capabilities = ["read"] }`,
		}, "read", "s/x", nil, 0, false, "b"},
		{"deny on other pattern does not merge", []string{
			"a", `path "s/x" { capabilities = ["read"] }`,
			"b", `path "s/*" { capabilities = ["deny"] }`,
		}, "read", "s/x", nil, 0, true, "a"},
		{"allowed values union", []string{
			"a", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = ["1"] } }`,
			"b", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = ["2"] } }`,
		}, "update", "s", map[string]any{"k": "2"}, 0, true, "a,b"},
		{"allowed values union rejects others", []string{
			"a", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = ["1"] } }`,
			"b", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = ["2"] } }`,
		}, "update", "s", map[string]any{"k": "3"}, 0, false, "a,b"},
		{"empty allowed list absorbs", []string{
			"a", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = ["1"] } }`,
			"b", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = [] } }`,
		}, "update", "s", map[string]any{"k": "3"}, 0, true, "a,b"},
		{"allowed keys union", []string{
			"a", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = [] } }`,
			"b", `path "s" { capabilities = ["update"] allowed_parameters = { "j" = [] } }`,
		}, "update", "s", map[string]any{"k": 1, "j": 2}, 0, true, "a,b"},
		{"restriction kept when another policy has none", []string{
			"a", `path "s" { capabilities = ["update"] allowed_parameters = { "k" = [] } }`,
			"b", `path "s" { capabilities = ["update"] }`,
		}, "update", "s", map[string]any{"other": 1}, 0, false, "a,b"},
		{"denied values union", []string{
			"a", `path "s" { capabilities = ["update"] denied_parameters = { "k" = ["1"] } }`,
			"b", `path "s" { capabilities = ["update"] denied_parameters = { "k" = ["2"] } }`,
		}, "update", "s", map[string]any{"k": "1"}, 0, false, "a,b"},
		{"required union", []string{
			"a", `path "s" { capabilities = ["update"] required_parameters = ["x"] }`,
			"b", `path "s" { capabilities = ["update"] required_parameters = ["y"] }`,
		}, "update", "s", map[string]any{"x": 1}, 0, false, "a,b"},
		{"smaller max wrapping ttl kept", []string{
			"a", `path "s" { capabilities = ["read"] max_wrapping_ttl = "1h" }`,
			"b", `path "s" { capabilities = ["read"] max_wrapping_ttl = "1m" }`,
		}, "read", "s", nil, 2 * time.Minute, false, "a,b"},
		{"smaller min wrapping ttl kept", []string{
			"a", `path "s" { capabilities = ["read"] min_wrapping_ttl = "1h" }`,
			"b", `path "s" { capabilities = ["read"] min_wrapping_ttl = "1m" }`,
		}, "read", "s", nil, 2 * time.Minute, true, "a,b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustACL(t, tt.policies...)
			res := a.Check(tt.op, tt.path, tt.data, tt.wrap)
			if res.Allowed != tt.allowed || res.Policy != tt.policy {
				t.Errorf("got %+v, want allowed=%v policy=%q", res, tt.allowed, tt.policy)
			}
		})
	}
}

func TestRootACL(t *testing.T) {
	root := &policy.Policy{Name: "root"}
	a, err := policy.NewACL(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.IsRoot() {
		t.Fatal("IsRoot() = false")
	}
	for _, op := range []string{"read", "create", "update", "patch", "delete", "list"} {
		t.Run(op, func(t *testing.T) {
			res := a.Check(op, "sys/raw/anything", map[string]any{"x": 1}, 0)
			if !res.Allowed || !res.Sudo || res.Policy != "root" || !res.Capabilities.Has(policy.SudoCapability) {
				t.Errorf("root Check = %+v", res)
			}
		})
	}
	if got := a.Capabilities("any/path"); !slices.Equal(got, []string{"root"}) {
		t.Errorf("Capabilities = %q", got)
	}
	t.Run("root with others", func(t *testing.T) {
		_, err := policy.NewACL(root, mustParse(t, "default", policy.DefaultPolicy()))
		if !errors.Is(err, policy.ErrRootWithOthers) {
			t.Errorf("err = %v, want ErrRootWithOthers", err)
		}
	})
	t.Run("not root", func(t *testing.T) {
		if mustACL(t, "ops", rules("a")).IsRoot() {
			t.Error("IsRoot() = true")
		}
	})
}

func TestCapabilities(t *testing.T) {
	a := mustACL(t,
		"a", `path "secret/*" { capabilities = ["read", "list", "sudo"] }
path "secret/closed" { capabilities = ["deny"] }
path "secret/empty" { capabilities = [] }
path "kv/app" { capabilities = ["update", "create"] }`,
		"b", `path "secret/*" { capabilities = ["patch"] }`)
	tests := []struct {
		path string
		want []string
	}{
		{"secret/x", []string{"list", "patch", "read", "sudo"}},
		{"secret/closed", []string{"deny"}},
		{"secret/empty", []string{"deny"}},
		{"nowhere", []string{"deny"}},
		{"kv/app", []string{"create", "update"}},
		{"kv/app/", []string{"create", "update"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := a.Capabilities(tt.path); !slices.Equal(got, tt.want) {
				t.Errorf("Capabilities(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestConcurrentCheck(t *testing.T) {
	a := mustACL(t, "p", rules("secret/*", "secret/+/x", "exact"))
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 200 {
				ok = ok && a.Check("read", "secret/a/x", nil, 0).Allowed && !a.Check("read", "nope", nil, 0).Allowed
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("concurrent Check gave a wrong answer")
		}
	}
}

func TestHasMountAccess(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		mount string
		want  bool
	}{
		{"rule on mount", `path "secret/*" { capabilities = ["read"] }`, "secret/", true},
		{"exact rule below", `path "secret/data/app" { capabilities = ["read"] }`, "secret/", true},
		{"prefix rule below", `path "secret/data/*" { capabilities = ["list"] }`, "secret/", true},
		{"plus rule below", `path "secret/+/app" { capabilities = ["read"] }`, "secret/", true},
		{"leading plus", `path "+/data/app" { capabilities = ["read"] }`, "kv/", true},
		{"rule covering mount", `path "sec*" { capabilities = ["read"] }`, "secret/", true},
		{"deny only", `path "secret/*" { capabilities = ["deny"] }`, "secret/", false},
		{"empty capabilities", `path "secret/*" { capabilities = [] }`, "secret/", false},
		{"subscribe only", `path "secret/*" { capabilities = ["subscribe"] }`, "secret/", false},
		{"other mount", `path "kv/*" { capabilities = ["read"] }`, "secret/", false},
		{"other mount plus", `path "kv/+/x" { capabilities = ["read"] }`, "secret/", false},
		{"sibling name", `path "secrets/*" { capabilities = ["read"] }`, "secret/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustACL(t, "p", tt.rules).HasMountAccess(tt.mount); got != tt.want {
				t.Errorf("HasMountAccess(%q) = %v, want %v", tt.mount, got, tt.want)
			}
		})
	}
	t.Run("root", func(t *testing.T) {
		a, err := policy.NewACL(&policy.Policy{Name: "root"})
		if err != nil || !a.HasMountAccess("anything/") {
			t.Errorf("root ACL hides mounts (%v)", err)
		}
	})
}
