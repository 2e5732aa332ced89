package tokenutil

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestEquivalentPolicies(t *testing.T) {
	tests := []struct {
		a, b []string
		want bool
	}{
		{[]string{"dev", "ops"}, []string{"ops", "dev"}, true},
		{[]string{"dev"}, []string{"default", "dev"}, true},
		{[]string{"Dev ", "dev"}, []string{"dev"}, true},
		{nil, []string{"default"}, true},
		{[]string{"dev"}, []string{"dev", "ops"}, false},
		{[]string{"dev", "ops"}, []string{"dev"}, false},
		{[]string{"root"}, []string{"default"}, false},
	}
	for _, tc := range tests {
		if got := EquivalentPolicies(tc.a, tc.b); got != tc.want {
			t.Errorf("EquivalentPolicies(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestRenewLogin: a token whose metadata names no entry is refused
// without a lookup, and storage errors are passed on as they are.
func TestRenewLogin(t *testing.T) {
	looked := false
	_, err := RenewLogin(&logical.Auth{Metadata: map[string]string{"other": "x"}}, "role", "role",
		func(string) (*Params, error) { looked = true; return &Params{}, nil })
	if logical.KindOf(err) != logical.KindPermissionDenied || looked {
		t.Fatalf("no name in metadata: %v (looked up: %v)", err, looked)
	}
	p := &Params{Policies: []string{"dev"}, TTL: 5, MaxTTL: 9}
	a, err := RenewLogin(&logical.Auth{Metadata: map[string]string{"role": "r"}, TokenPolicies: []string{"default", "dev"}}, "role", "role",
		func(name string) (*Params, error) {
			if name != "r" {
				t.Fatalf("looked up %q", name)
			}
			return p, nil
		})
	if err != nil || a.TTL != 5 || a.MaxTTL != 9 {
		t.Fatalf("RenewLogin = %+v, %v", a, err)
	}
}
