package core

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
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

// AuditRecordsHeaders reports whether an audit sink writes request
// headers: Request.Headers is read by nothing else, so without one the
// HTTP layer leaves it empty.
func (c *Core) AuditRecordsHeaders() bool { return c.audit.RecordsHeaders() }

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
	return c.auditRequestAt(c.now(), req, mount, te, authErr)
}

// auditRequestAt is auditRequest for a request authorized at at.
func (c *Core) auditRequestAt(at time.Time, req *logical.Request, mount string, te *token.Entry, authErr error) error {
	if !c.audit.Enabled() {
		return nil
	}
	var caller audit.Caller
	if err := c.audit.LogRequest(at, req, mount, auditCaller(&caller, req, te), authErr); err != nil {
		return errAuditFailed(err)
	}
	return nil
}

// responseStatus is the HTTP status the client will get, for the audit log.
func (c *Core) responseStatus(req *logical.Request, resp *logical.Response, respErr error) int {
	if c.auditStatus == nil {
		return 0
	}
	return c.auditStatus(req.Operation, resp, respErr)
}

// auditResponse logs the outcome of req before it is returned.
func (c *Core) auditResponse(req *logical.Request, mount string, te *token.Entry, resp *logical.Response, respErr error) error {
	if !c.audit.Enabled() {
		return nil
	}
	var caller audit.Caller
	if err := c.audit.LogResponse(c.now(), req, mount, auditCaller(&caller, req, te), resp, c.responseStatus(req, resp, respErr), respErr); err != nil {
		return errAuditFailed(err)
	}
	return nil
}

// A read's request entry can wait for its response entry, and both go to
// each sink in one write: half the writes for the commonest request. That
// holds only while the request changes nothing, because the request entry
// must precede any effect of the request. So deferral is limited to
// token-authenticated requests on mounted engines and auth methods (not the
// core's own system, token, identity and cubbyhole backends, which change
// state other than through the request's storage view), of tokens without
// a use limit (using one is a write), without response wrapping (which
// writes a token), that are either reads and lists on paths a standby
// serves itself (whose reads have no effect outside storage, by
// logical.StandbyDefault's contract) or any operation on a path that
// chooses logical.StandbyLocal (no effect outside storage before the first
// storage write, by its contract: transit's cryptography). A storage write
// through the request's view, or a lease the response needs, writes the
// request entry first, on its own, and the write fails if that does.

// deferredAudit is the held-back request entry of one read.
type deferredAudit struct {
	c       *Core
	req     *logical.Request
	mount   string
	te      *token.Entry
	at      time.Time
	written bool
	err     error
}

// flush writes the request entry on its own, once.
func (d *deferredAudit) flush() error {
	if !d.written {
		d.written = true
		d.err = d.c.auditRequestAt(d.at, d.req, d.mount, d.te, nil)
	}
	return d.err
}

// finish writes the response entry, with the request entry if that is
// still held back.
func (d *deferredAudit) finish(resp *logical.Response, respErr error) error {
	if d.written {
		return d.c.auditResponse(d.req, d.mount, d.te, resp, respErr)
	}
	d.written = true
	var caller audit.Caller
	if err := d.c.audit.LogExchange(d.at, d.c.now(), d.req, d.mount, auditCaller(&caller, d.req, d.te),
		resp, d.c.responseStatus(d.req, resp, respErr), respErr); err != nil {
		return errAuditFailed(err)
	}
	return nil
}

// auditedView is the storage view of a request whose request entry is
// held back: the first change writes the entry before it goes ahead.
type auditedView struct {
	storage.Backend
	d deferredAudit
}

func (v *auditedView) Put(ctx context.Context, e *storage.Entry) error {
	if err := v.d.flush(); err != nil {
		return err
	}
	return v.Backend.Put(ctx, e)
}

func (v *auditedView) Delete(ctx context.Context, key string) error {
	if err := v.d.flush(); err != nil {
		return err
	}
	return v.Backend.Delete(ctx, key)
}

func (v *auditedView) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if err := v.d.flush(); err != nil {
		return err
	}
	return v.Backend.Transaction(ctx, ops)
}

// deferAudit returns breq's storage view wrapped to hold its request entry
// back, or nil when the request must be logged before it runs.
func (c *Core) deferAudit(m *MountEntry, req, breq *logical.Request, te *token.Entry) *auditedView {
	if !c.audit.Enabled() || te == nil || te.NumUses > 0 || req.WrapTTL > 0 || breq.Unauthenticated ||
		builtinTypes[m.Type] {
		return nil
	}
	mode := logical.StandbyDefault
	if sp, ok := m.backend.(logical.StandbyPather); ok {
		mode = sp.StandbyMode(breq)
	}
	if mode != logical.StandbyLocal && (mode != logical.StandbyDefault || !isRead(breq.Operation)) {
		return nil
	}
	return &auditedView{Backend: breq.Storage, d: deferredAudit{c: c, req: req, mount: m.Path, te: te, at: c.now()}}
}

// flushDeferredAudit writes breq's held-back request entry, if any, before
// the core itself changes something for it.
func flushDeferredAudit(breq *logical.Request) error {
	if v, ok := breq.Storage.(*auditedView); ok {
		return v.d.flush()
	}
	return nil
}
