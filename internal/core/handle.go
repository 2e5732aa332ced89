package core

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/cofferdev/coffer/internal/identity"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/policy"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/token"
)

// sudoPaths need the sudo capability on top of the operation's own, as
// Vault's root-protected endpoints do. A trailing "*" matches a prefix.
var sudoPaths = []string{
	"sys/audit", "sys/audit/*", "sys/auth/*", "sys/config/*", "sys/leases/lookup/*",
	"sys/leases/revoke-prefix/*", "sys/leases/revoke-force/*", "sys/plugins/catalog/*",
	"sys/raw", "sys/raw/*", "sys/remount", "sys/rotate", "sys/rotate/*", "sys/internal/inspect/*",
	"sys/storage/raft/snapshot-auto/config/*",
	"sys/storage/raft/configuration", "sys/storage/raft/remove-peer", "sys/storage/raft/snapshot", "sys/storage/raft/snapshot-force",
	"sys/revoke-prefix/*", "sys/revoke-force/*", "sys/step-down", "sys/storage/raft/autopilot/*",
	"auth/token/accessors", "auth/token/accessors/*", "auth/token/revoke-orphan", "auth/token/revoke-orphan/*",
}

// unauthenticatedPaths skip the pipeline's token and ACL check. The
// mount-discovery endpoints check the token themselves, as in Vault: any
// capability under a mount reveals that mount's type and options.
var unauthenticatedPaths = []string{"sys/wrapping/lookup", "sys/internal/ui/mounts", "sys/internal/ui/mounts/*",
	"sys/storage/raft/bootstrap/challenge", "sys/storage/raft/bootstrap/answer"}

// wrappingPaths are the only paths a response-wrapping token may call.
var wrappingPaths = map[string]bool{
	"sys/wrapping/unwrap": true, "sys/wrapping/lookup": true, "sys/wrapping/rewrap": true,
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if strings.HasSuffix(p, "*") {
			if strings.HasPrefix(path, p[:len(p)-1]) {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}

// HandleRequest runs one request through the pipeline: route, authenticate,
// authorize, call the backend, wrap the response if asked.
func (c *Core) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	st, release, err := c.state()
	if err != nil {
		return nil, err
	}
	if !st.active {
		release()
		return c.handleStandby(ctx, req)
	}
	if c.ha != nil && isRead(req.Operation) && !req.StaleOK {
		// Even the active node confirms it still leads before a read, so a
		// leader cut off from the others (not knowing yet that it was
		// deposed) never answers from stale state. Outside the state lock,
		// as on standbys.
		release()
		if err := c.ha.ha.ConsistentRead(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, logical.ErrForward
		}
		if st, release, err = c.state(); err != nil {
			return nil, err
		}
		if !st.active {
			release()
			return c.handleStandby(ctx, req)
		}
	}
	defer release()
	resp, err := c.handle(ctx, st, req)
	if err != nil && c.ha != nil && errors.Is(err, storage.ErrReadOnly) {
		// Leadership moved while the request ran: its writes were refused
		// before reaching the log, so the new active node can take it.
		return nil, logical.ErrForward
	}
	return resp, err
}

func isRead(op logical.Operation) bool {
	return op == logical.ReadOperation || op == logical.ListOperation
}

func (c *Core) handle(ctx context.Context, st *unsealedState, req *logical.Request) (*logical.Response, error) {
	ctx = withConnection(ctx, req)
	m := st.mounts.route(req.Path)
	if m == nil {
		err := logical.Errorf(logical.KindUnsupportedPath, "no handler for route %q", req.Path)
		if mount, what := st.mounts.busyWith(req.Path); what == busyKVUpgrade {
			err = logical.InvalidRequest("the mount %s is %s; retry shortly", mount, what)
		}
		if aerr := c.auditRequest(req, "", nil, err); aerr != nil {
			return nil, aerr
		}
		if aerr := c.auditResponse(req, "", nil, nil, err); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	breq := *req
	breq.Path = strings.TrimPrefix(req.Path, m.Path)
	if req.Path+"/" == m.Path {
		breq.Path = ""
	}
	breq.MountPoint = m.Path
	breq.Storage = m.view
	te, err := c.authorize(ctx, st, m, req, &breq)
	var held *auditedView
	if err == nil {
		held = c.deferAudit(m, req, &breq, te)
	}
	if held != nil {
		breq.Storage = held
		defer func() {
			if !held.d.written {
				// Only a panic in the backend gets here: the request goes
				// on record all the same, as it would have before the
				// backend ran.
				_ = held.d.flush()
			}
		}()
	} else if aerr := c.auditRequest(req, m.Path, te, err); aerr != nil {
		return nil, aerr
	}
	var resp *logical.Response
	if err == nil {
		resp, err = c.runBackend(ctx, st, m, req, &breq, te)
	}
	if held != nil {
		if aerr := held.d.finish(resp, err); aerr != nil {
			return nil, aerr
		}
	} else if aerr := c.auditResponse(req, m.Path, te, resp, err); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// runBackend calls the mount's backend for an authorized request and wraps
// the response if asked.
func (c *Core) runBackend(ctx context.Context, st *unsealedState, m *MountEntry, req, breq *logical.Request, te *token.Entry) (*logical.Response, error) {
	var err error
	last := false
	if te != nil && te.NumUses > 0 {
		if last, err = st.tokens.Use(ctx, te); err != nil {
			if errors.Is(err, token.ErrInvalidToken) {
				return nil, logical.ErrPermissionDenied
			}
			return nil, err
		}
	}
	var resp *logical.Response
	if login, user := loginPath(m, breq); login && te == nil {
		resp, err = c.runLogin(ctx, st, m, req, breq, user)
	} else {
		resp, err = m.backend.HandleRequest(ctx, breq)
	}
	if last {
		if rerr := st.tokens.Revoke(ctx, te); rerr != nil {
			c.logger.Error("core: revoking used-up token failed", "accessor", te.Accessor, "error", rerr)
		}
	}
	if err != nil {
		return nil, err
	}
	if resp != nil && resp.Secret != nil && resp.Secret.LeaseID == "" && m.Type != "system" {
		if err := flushDeferredAudit(breq); err != nil {
			return nil, err
		}
		if err := c.leaseSecret(ctx, st, m, breq, te, resp.Secret); err != nil {
			return nil, err
		}
	}
	if resp != nil && req.WrapTTL > 0 && resp.WrapInfo == nil && (resp.Data != nil || resp.Auth != nil) {
		return c.wrapResponse(ctx, st, req, resp)
	}
	return resp, nil
}

// authorize checks the token and the ACL and fills in breq.Caller. It
// returns the token entry, or nil for unauthenticated paths.
func (c *Core) authorize(ctx context.Context, st *unsealedState, m *MountEntry, req, breq *logical.Request) (*token.Entry, error) {
	if login, _ := loginPath(m, breq); login || matchAny(unauthenticatedPaths, req.Path) {
		breq.Unauthenticated = true
		if m.Type != "system" {
			breq.ClientToken = ""
		}
		return nil, nil
	}
	te, err := c.lookupToken(ctx, st, req.ClientToken, req.RemoteAddr)
	if err != nil {
		return nil, err
	}
	if isWrappingToken(te) && !wrappingPaths[req.Path] {
		return nil, logical.ErrPermissionDenied
	}
	acl, err := c.tokenACL(ctx, st, te)
	if err != nil {
		return nil, err
	}
	breq.Caller = callerFor(te, acl)
	if breq.Operation == logical.UpdateOperation {
		if ec, ok := m.backend.(logical.ExistenceChecker); ok {
			checked, exists, err := ec.Exists(ctx, breq)
			if err != nil {
				return nil, err
			}
			if checked && !exists {
				breq.Operation = logical.CreateOperation
			}
		}
	}
	res := acl.Check(string(breq.Operation), req.Path, req.Data, req.WrapTTL)
	if !isWrappingToken(te) && (!res.Allowed || (matchAny(sudoPaths, req.Path) && !res.Sudo)) {
		c.logger.Debug("core: permission denied", "path", req.Path, "operation", breq.Operation,
			"accessor", te.Accessor, "reason", res.Reason)
		return nil, logical.ErrPermissionDenied
	}
	breq.Caller.Sudo = res.Sudo
	if m.Type != "system" && m.Type != "token" {
		breq.ClientToken = ""
	}
	return te, nil
}

// lookupToken resolves a raw token and enforces its CIDR binding. Every
// failure is the same "permission denied" so nothing is revealed.
func (c *Core) lookupToken(ctx context.Context, st *unsealedState, raw, remote string) (*token.Entry, error) {
	if raw == "" {
		return nil, logical.ErrPermissionDenied
	}
	te, err := st.tokens.Lookup(ctx, raw)
	if errors.Is(err, token.ErrInvalidToken) {
		return nil, logical.ErrPermissionDenied
	}
	if err != nil {
		return nil, err
	}
	if te.Type == token.TypeBatch && !strings.HasPrefix(te.Path, "auth/token/") && st.mounts.route(te.Path) == nil {
		// The auth method that issued this batch token was disabled.
		return nil, logical.ErrPermissionDenied
	}
	if len(te.BoundCIDRs) > 0 {
		addr, perr := netip.ParseAddr(remote)
		if perr != nil || st.tokens.CheckCIDR(te, addr) != nil {
			return nil, logical.ErrPermissionDenied
		}
	}
	return te, nil
}

// tokenACL compiles the ACL of a token: its own policies plus those its
// identity entity and groups grant. A disabled entity's tokens are denied.
func (c *Core) tokenACL(ctx context.Context, st *unsealedState, te *token.Entry) (*policy.ACL, error) {
	if te.EntityID == "" || st.identity == nil {
		return st.policies.acl(ctx, te.Policies)
	}
	ip, err := st.identity.Policies(ctx, te.EntityID)
	if errors.Is(err, identity.ErrEntityDisabled) {
		return nil, logical.ErrPermissionDenied
	}
	if err != nil {
		return nil, err
	}
	return st.policies.acl(ctx, unionPolicies(te.Policies, ip))
}

func isWrappingToken(te *token.Entry) bool {
	return len(te.Policies) == 1 && te.Policies[0] == responseWrappingPolicy
}

func callerFor(te *token.Entry, acl *policy.ACL) *logical.Caller {
	return &logical.Caller{
		Accessor: te.Accessor, DisplayName: te.DisplayName, Policies: te.Policies,
		EntityID: te.EntityID, CubbyholeID: te.CubbyholeID, Meta: te.Meta,
		TokenType: te.Type, Root: acl.IsRoot(),
	}
}
