package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/policy"
)

// benchACL builds nPolicies policies of nRules rules each: a mix of exact,
// prefix and "+" patterns under per-policy mounts.
func benchACL(b *testing.B, nPolicies, nRules int) *policy.ACL {
	b.Helper()
	var ps []*policy.Policy
	for i := range nPolicies {
		var sb strings.Builder
		for j := range nRules {
			var pattern string
			switch j % 4 {
			case 0:
				pattern = fmt.Sprintf("kv%d/data/app%d/config", i, j)
			case 1:
				pattern = fmt.Sprintf("kv%d/data/app%d/*", i, j)
			case 2:
				pattern = fmt.Sprintf("kv%d/+/app%d/db", i, j)
			default:
				pattern = fmt.Sprintf("sys/policies/acl/team%d-%d", i, j)
			}
			fmt.Fprintf(&sb, "path %q { capabilities = [\"read\", \"list\"] }\n", pattern)
		}
		ps = append(ps, mustParse(b, fmt.Sprintf("p%d", i), sb.String()))
	}
	a, err := policy.NewACL(ps...)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func BenchmarkCheck(b *testing.B) {
	small := mustACL(b, "app", `
path "secret/data/app/config" { capabilities = ["read"] }
path "secret/data/app/*" { capabilities = ["read", "list"] }
path "secret/+/shared/*" { capabilities = ["read"] }
`)
	large := benchACL(b, 50, 20)
	tests := []struct {
		name    string
		acl     *policy.ACL
		path    string
		allowed bool
	}{
		{"exact hit", small, "secret/data/app/config", true},
		{"glob hit", small, "secret/data/app/nested/key", true},
		{"plus hit", small, "secret/data/shared/key", true},
		{"50x20 exact hit", large, "kv25/data/app8/config", true},
		{"50x20 glob hit", large, "kv25/data/app9/a/b", true},
		{"50x20 miss", large, "kv25/data/unknown/path", false},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			if got := tt.acl.Check("read", tt.path, nil, 0).Allowed; got != tt.allowed {
				b.Fatalf("Allowed = %v, want %v", got, tt.allowed)
			}
			b.ReportAllocs()
			for b.Loop() {
				tt.acl.Check("read", tt.path, nil, 0)
			}
		})
	}
}

func TestSimpleReadDoesNotAllocate(t *testing.T) {
	a := mustACL(t, "app", `
path "secret/data/app/config" { capabilities = ["read"] }
path "secret/data/app/*" { capabilities = ["read", "list"] }
path "secret/+/shared/*" { capabilities = ["read"] }
`)
	for _, path := range []string{"secret/data/app/config", "secret/data/app/x/y", "secret/data/shared/k"} {
		t.Run(path, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				if !a.Check("read", path, nil, 0).Allowed {
					t.Fatal("denied")
				}
			})
			if allocs != 0 {
				t.Errorf("Check allocated %v times", allocs)
			}
		})
	}
}
