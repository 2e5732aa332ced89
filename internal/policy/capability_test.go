package policy_test

import (
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/policy"
)

func TestCapabilityStrings(t *testing.T) {
	tests := []struct {
		name string
		caps policy.Capability
		want []string
	}{
		{"empty", 0, nil},
		{"sorted", policy.UpdateCapability | policy.CreateCapability | policy.ReadCapability, []string{"create", "read", "update"}},
		{"all", policy.CreateCapability | policy.ReadCapability | policy.UpdateCapability | policy.PatchCapability |
			policy.DeleteCapability | policy.ListCapability | policy.SudoCapability | policy.SubscribeCapability | policy.RecoverCapability,
			[]string{"create", "delete", "list", "patch", "read", "recover", "subscribe", "sudo", "update"}},
		{"deny overrides", policy.DenyCapability | policy.ReadCapability, []string{"deny"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.caps.Strings(); !slices.Equal(got, tt.want) {
				t.Errorf("Strings() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseCapability(t *testing.T) {
	for _, name := range []string{"deny", "create", "read", "update", "patch", "delete", "list", "sudo", "subscribe", "recover"} {
		t.Run(name, func(t *testing.T) {
			c, err := policy.ParseCapability(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.String(); got != name {
				t.Errorf("round trip gave %q", got)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if _, err := policy.ParseCapability("reed"); err == nil {
			t.Error("no error for an unknown capability")
		}
	})
}
