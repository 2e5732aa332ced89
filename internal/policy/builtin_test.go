package policy_test

import (
	"errors"
	"testing"

	"github.com/cofferdev/coffer/internal/policy"
)

func TestDefaultPolicy(t *testing.T) {
	p := mustParse(t, policy.DefaultPolicyName, policy.DefaultPolicy())
	if !p.Templated {
		t.Error("default policy should hold the templated identity paths")
	}
	a, err := policy.NewACL(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		op, path string
		want     bool
	}{
		{"read", "auth/token/lookup-self", true},
		{"update", "auth/token/renew-self", true},
		{"update", "auth/token/revoke-self", true},
		{"update", "sys/capabilities-self", true},
		{"read", "sys/internal/ui/resultant-acl", true},
		{"update", "sys/renew", true},
		{"update", "sys/leases/renew", true},
		{"update", "sys/leases/lookup", true},
		{"create", "cubbyhole/x", true},
		{"list", "cubbyhole/", true},
		{"update", "sys/wrapping/wrap", true},
		{"update", "sys/wrapping/lookup", true},
		{"update", "sys/wrapping/unwrap", true},
		{"update", "sys/tools/hash/sha2-256", true},
		{"read", "identity/oidc/provider/p/authorize", true},
		{"update", "auth/token/create", false},
		{"read", "secret/data/x", false},
		{"read", "sys/leases/lookup", false},
		{"read", "identity/entity/id/{{identity.entity.id}}", false},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.path, func(t *testing.T) {
			if got := a.Check(tt.op, tt.path, nil, 0).Allowed; got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("entity paths after Render", func(t *testing.T) {
		a, err := policy.NewACL(p.Render(&policy.Identity{EntityID: "e-1", EntityName: "alice"}))
		if err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string]bool{
			"identity/entity/id/e-1":      true,
			"identity/entity/name/alice":  true,
			"identity/entity/id/e-2":      false,
			"identity/entity/name/mallet": false,
		} {
			if got := a.Check("read", path, nil, 0).Allowed; got != want {
				t.Errorf("read %s = %v, want %v", path, got, want)
			}
		}
	})
}

func TestResponseWrappingPolicy(t *testing.T) {
	a := mustACL(t, policy.ResponseWrappingPolicyName, policy.ResponseWrappingPolicy())
	if !a.Check("read", "cubbyhole/response", nil, 0).Allowed || !a.Check("update", "sys/wrapping/unwrap", nil, 0).Allowed {
		t.Error("wrapping policy does not allow unwrapping")
	}
	if a.Check("read", "cubbyhole/other", nil, 0).Allowed {
		t.Error("wrapping policy allows other cubbyhole paths")
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		want error
	}{
		{"ops", nil},
		{"team-a.read_only-2", nil},
		{"default", nil},
		{"", policy.ErrInvalidName},
		{"Ops", policy.ErrInvalidName},
		{"a b", policy.ErrInvalidName},
		{"a/b", policy.ErrInvalidName},
		{"..", policy.ErrInvalidName},
		{string(make([]byte, 129)), policy.ErrInvalidName},
		{"root", policy.ErrReservedName},
		{"response-wrapping", policy.ErrReservedName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := policy.ValidateName(tt.name); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidateName(%q) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
	t.Run("max length", func(t *testing.T) {
		name := make([]byte, 128)
		for i := range name {
			name[i] = 'a'
		}
		if err := policy.ValidateName(string(name)); err != nil {
			t.Error(err)
		}
	})
}
