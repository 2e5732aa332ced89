package policy_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/policy"
)

func TestExplain(t *testing.T) {
	reader := `
path "secret/data/*" { capabilities = ["read", "list"] }
path "secret/data/app/+/config" { capabilities = ["read", "update"] }
path "sys/mounts" { capabilities = ["read", "sudo"] }
`
	writer := `
path "secret/data/*" { capabilities = ["read", "create", "update"] }
path "secret/data/locked" { capabilities = ["deny"] }
`
	other := `path "secret/data/locked" { capabilities = ["read"] }`
	ps := []*policy.Policy{
		mustParse(t, "reader", reader),
		mustParse(t, "writer", writer),
		mustParse(t, "other", other),
	}
	tests := []struct {
		name, capability, path string
		allowed                bool
		rule                   string
		policies               []string
		caps                   []string
	}{
		{"granted by two policies", "read", "secret/data/x", true, "secret/data/*", []string{"reader", "writer"}, []string{"create", "list", "read", "update"}},
		{"granted by one policy", "create", "secret/data/x", true, "secret/data/*", []string{"writer"}, []string{"create", "list", "read", "update"}},
		{"operation mapped to capability", "renew", "secret/data/x", true, "secret/data/*", []string{"writer"}, []string{"create", "list", "read", "update"}},
		{"not granted by the matching rule", "delete", "secret/data/x", false, "secret/data/*", []string{"reader", "writer"}, []string{"create", "list", "read", "update"}},
		{"deny wins over a grant in another policy", "read", "secret/data/locked", false, "secret/data/locked", []string{"writer"}, []string{"deny"}},
		{"plus rule outranks prefix", "update", "secret/data/app/web/config", true, "secret/data/app/+/config", []string{"reader"}, []string{"read", "update"}},
		{"plus rule decides a denial too", "create", "secret/data/app/web/config", false, "secret/data/app/+/config", []string{"reader"}, []string{"read", "update"}},
		{"sudo", "sudo", "sys/mounts", true, "sys/mounts", []string{"reader"}, []string{"read", "sudo"}},
		{"no rule", "read", "kv/x", false, "", nil, []string{"deny"}},
		{"leading slash ignored", "read", "/secret/data/x", true, "secret/data/*", []string{"reader", "writer"}, []string{"create", "list", "read", "update"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := policy.Explain(ps, tt.capability, tt.path)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if ex.Allowed != tt.allowed || ex.Rule != tt.rule {
				t.Errorf("allowed=%v rule=%q, want %v %q (%s)", ex.Allowed, ex.Rule, tt.allowed, tt.rule, ex.Reason)
			}
			if !slices.Equal(ex.Policies, tt.policies) {
				t.Errorf("policies = %q, want %q", ex.Policies, tt.policies)
			}
			if !slices.Equal(ex.Capabilities, tt.caps) {
				t.Errorf("capabilities = %q, want %q", ex.Capabilities, tt.caps)
			}
			if ex.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

// TestExplainAgreesWithCheck checks that Explain and Check pick the same
// rule and verdict for simple requests, so the two never disagree.
func TestExplainAgreesWithCheck(t *testing.T) {
	a := mustACL(t,
		"p1", rules("secret/*", "secret/+/x", "secret/a/b*", "foo/+/bar", "foo/+/ba*"),
		"p2", `path "secret/a/deny" { capabilities = ["deny"] }
path "secret/list/" { capabilities = ["list"] }`)
	for _, path := range []string{"secret/a", "secret/q/x", "secret/a/bc", "foo/x/bar", "foo/x/baz", "secret/a/deny", "nothing", "secret/list/"} {
		for _, op := range []string{"read", "list", "update"} {
			t.Run(op+" "+path, func(t *testing.T) {
				res := a.Check(op, path, nil, 0)
				ex, err := a.Explain(op, path)
				if err != nil {
					t.Fatal(err)
				}
				if ex.Allowed != res.Allowed || ex.Rule != res.Rule {
					t.Errorf("Explain = %v %q, Check = %v %q", ex.Allowed, ex.Rule, res.Allowed, res.Rule)
				}
			})
		}
	}
}

func TestExplainRoot(t *testing.T) {
	a, err := policy.NewACL(&policy.Policy{Name: "root"})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := a.Explain("sudo", "sys/raw/x")
	if err != nil {
		t.Fatal(err)
	}
	if !ex.Allowed || !slices.Equal(ex.Policies, []string{"root"}) || ex.Rule != "" {
		t.Errorf("root explanation = %+v", ex)
	}
}

func TestExplainErrors(t *testing.T) {
	ps := []*policy.Policy{mustParse(t, "p", rules("a"))}
	for _, c := range []string{"deny", "reed", "", "help"} {
		t.Run(c, func(t *testing.T) {
			if _, err := policy.Explain(ps, c, "a"); !errors.Is(err, policy.ErrUnknownCapability) {
				t.Errorf("Explain(%q) error = %v, want ErrUnknownCapability", c, err)
			}
		})
	}
	root := &policy.Policy{Name: "root"}
	if _, err := policy.Explain([]*policy.Policy{root, ps[0]}, "read", "a"); !errors.Is(err, policy.ErrRootWithOthers) {
		t.Errorf("root with others: error = %v", err)
	}
}
