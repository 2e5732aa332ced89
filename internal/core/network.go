package core

import (
	"context"
	"net/netip"

	"github.com/cofferdev/coffer/internal/logical"
)

// NetworkGuard is what the core asks of the network-controls layer: whether
// a login attempt may proceed (user lockout, banned addresses) and what each
// attempt's outcome was. A nil guard allows every attempt.
type NetworkGuard interface {
	// CheckLogin returns an error when the user (on that auth mount) is locked
	// out or the address is banned.
	CheckLogin(mountAccessor, user string, ip netip.Addr) error
	// RecordLogin counts a failed attempt, or clears the user's count after a
	// success.
	RecordLogin(mountAccessor, user string, ip netip.Addr, ok bool)
}

// networkPaths serve the sys/ endpoints of the network controls.
func (c *Core) networkPaths(st *unsealedState) []*logical.Path {
	return nil
}

// loadNetwork hands the network controls their stored settings at unseal.
func (c *Core) loadNetwork(ctx context.Context, st *unsealedState) error {
	return nil
}
