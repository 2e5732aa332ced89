package kubernetes

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
)

// TestStandbyModes checks that a standby tries logins itself (they write
// nothing but storage, and only when they must) and hands configuration
// changes to the active node. The method keeps nothing read from storage
// in memory, so it needs no logical.Invalidator.
func TestStandbyModes(t *testing.T) {
	h := logicaltest.New(t, "auth/kubernetes/")
	b, err := New(h.Config(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want logical.StandbyMode
	}{
		{"login", logical.StandbyLocal},
		{"role/r", logical.StandbyDefault},
		{"config", logical.StandbyDefault},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := b.StandbyMode(&logical.Request{Operation: logical.UpdateOperation, Path: tt.path}); got != tt.want {
				t.Errorf("StandbyMode(%q) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
	if _, ok := any(b).(logical.Invalidator); ok {
		t.Error("the method implements Invalidator; update this test and its comment")
	}
}
