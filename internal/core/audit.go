package core

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/token"
)

// Barrier keys of the audit keys: one HMAC key per sink, one Ed25519 seed.
const (
	auditKeyPrefix     = "sys/audit/"
	auditSigningKeyKey = "sys/audit/signing-key"
)

// errAuditFailed is what a client gets when no required audit sink took
// the entry: a 500 whose message says why and nothing more.
func errAuditFailed(err error) error {
	return &logical.Error{Kind: logical.KindInternal, Msg: "audit log unavailable: request refused", Err: err}
}

// AuditEvent describes a request the HTTP layer served itself (sys/init,
// sys/unseal, sys/seal, sys/rekey*, sys/generate-root*) or refused before
// the pipeline. It never holds the request's body: that is key material.
type AuditEvent struct {
	ID, Operation, Path, RemoteAddr string
	// Status and Err are the outcome, for response entries.
	Status int
	Err    error
}

// AuditLifecycle writes ev as a request (before the operation runs) or a
// response entry. An error means no required sink accepted it: the caller
// must not run the operation (request) and must answer with the error.
func (c *Core) AuditLifecycle(ctx context.Context, typ string, ev AuditEvent) error {
	if !c.audit.Enabled() {
		return nil
	}
	e := audit.NewEventEntry(c.now(), typ, ev.ID, ev.Operation, ev.Path, ev.RemoteAddr, ev.Status, ev.Err)
	if err := c.audit.Log(e); err != nil {
		return errAuditFailed(err)
	}
	return nil
}

// auditUnlock loads (or creates, on first unseal) the audit keys from the
// barrier and hands them to the broker.
func (c *Core) auditUnlock(ctx context.Context) error {
	if !c.audit.Enabled() {
		return nil
	}
	seed, err := c.loadOrCreateKey(ctx, auditSigningKeyKey)
	if err != nil {
		return fmt.Errorf("core: audit signing key: %w", err)
	}
	defer clear(seed)
	keys := audit.Keys{HMAC: map[string][]byte{}, Signing: ed25519.NewKeyFromSeed(seed)}
	for _, name := range c.audit.SinkNames() {
		k, err := c.loadOrCreateKey(ctx, auditKeyPrefix+name+"/hmac-key")
		if err != nil {
			return fmt.Errorf("core: audit key of sink %s: %w", name, err)
		}
		keys.HMAC[name] = k
	}
	err = c.audit.Unlock(keys)
	for _, k := range keys.HMAC {
		clear(k)
	}
	return err
}

// auditLock signs what was logged and makes the broker forget its keys.
func (c *Core) auditLock() {
	if c.audit.Enabled() {
		c.audit.Lock()
	}
}

// auditCaller describes the token behind req for the audit entry, in c
// (so it can live on the caller's stack); nil when there is no token.
func auditCaller(c *audit.Caller, req *logical.Request, te *token.Entry) *audit.Caller {
	if te == nil {
		if req.ClientToken == "" {
			return nil
		}
		*c = audit.Caller{ClientToken: req.ClientToken}
		return c
	}
	*c = audit.Caller{ClientToken: req.ClientToken, Accessor: te.Accessor, DisplayName: te.DisplayName,
		Policies: te.Policies, EntityID: te.EntityID, TokenType: te.Type, TokenID: te.Hash}
	return c
}

// auditRequest logs req after authorization; authErr is its outcome.
func (c *Core) auditRequest(req *logical.Request, mount string, te *token.Entry, authErr error) error {
	if !c.audit.Enabled() {
		return nil
	}
	var caller audit.Caller
	if err := c.audit.LogRequest(c.now(), req, mount, auditCaller(&caller, req, te), authErr); err != nil {
		return errAuditFailed(err)
	}
	return nil
}

// auditResponse logs the outcome of req before it is returned.
func (c *Core) auditResponse(req *logical.Request, mount string, te *token.Entry, resp *logical.Response, respErr error) error {
	if !c.audit.Enabled() {
		return nil
	}
	status := 0
	if c.auditStatus != nil {
		status = c.auditStatus(req.Operation, resp, respErr)
	}
	var caller audit.Caller
	if err := c.audit.LogResponse(c.now(), req, mount, auditCaller(&caller, req, te), resp, status, respErr); err != nil {
		return errAuditFailed(err)
	}
	return nil
}
