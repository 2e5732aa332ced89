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
	logicaltest.StandbyModes(t, b, map[string]logical.StandbyMode{
		"login":  logical.StandbyLocal,
		"role/r": logical.StandbyDefault,
		"config": logical.StandbyDefault,
	})
	if _, ok := any(b).(logical.Invalidator); ok {
		t.Error("the method implements Invalidator; update this test and its comment")
	}
}
