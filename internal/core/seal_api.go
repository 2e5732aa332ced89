package core

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

// SealWithRequest seals the core on behalf of an API caller, who needs
// update and sudo on sys/seal (root tokens have both).
func (c *Core) SealWithRequest(ctx context.Context, req *logical.Request) error {
	if err := c.checkSudo(ctx, req); err != nil {
		return err
	}
	c.Seal(ctx)
	return nil
}

// checkSudo authorises req (an update on req.Path) with sudo, outside the
// backend pipeline, for endpoints the HTTP layer serves itself.
func (c *Core) checkSudo(ctx context.Context, req *logical.Request) error {
	st, release, err := c.state()
	if err != nil {
		return err
	}
	defer release()
	te, err := c.lookupToken(ctx, st, req.ClientToken, req.RemoteAddr)
	if err != nil {
		return err
	}
	if isWrappingToken(te) {
		return logical.ErrPermissionDenied
	}
	acl, err := st.policies.acl(ctx, te.Policies)
	if err != nil {
		return err
	}
	res := acl.Check(string(logical.UpdateOperation), req.Path, nil, 0)
	if !res.Allowed || !res.Sudo {
		return logical.ErrPermissionDenied
	}
	return nil
}
