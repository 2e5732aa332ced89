package lease

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Paths returns the sys/leases API, relative to the sys/ mount, for the core
// to append to the system backend: lookup, LIST lookup/<prefix>, renew,
// revoke, revoke-prefix, revoke-force, tidy, the irrevocable listing, and
// Vault's legacy sys/renew, sys/revoke, sys/revoke-prefix and
// sys/revoke-force aliases.
func (m *Manager) Paths() []*logical.Path {
	idFields := func(extra map[string]*logical.Field) map[string]*logical.Field {
		f := map[string]*logical.Field{
			"lease_id":     {Type: logical.TypeString, Description: "the lease id"},
			"url_lease_id": {Type: logical.TypeString, Description: "the lease id, in the URL"},
		}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	syncField := map[string]*logical.Field{"sync": {Type: logical.TypeBool, Default: true}}
	paths := []*logical.Path{
		{Pattern: "leases/lookup", Fields: idFields(nil), Help: "read a lease's metadata",
			Operations: map[logical.Operation]logical.Handler{
				logical.UpdateOperation: m.handleLookup, logical.ListOperation: m.handleList}},
		{Pattern: "leases/lookup/(?P<prefix>.*)", Help: "list lease ids under a prefix (sudo)",
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: m.handleList}},
		{Pattern: "leases", Fields: map[string]*logical.Field{"type": {Type: logical.TypeString}},
			Help:       "list irrevocable leases (type=irrevocable)",
			Operations: map[logical.Operation]logical.Handler{logical.ReadOperation: m.handleIrrevocable}},
		{Pattern: "leases/tidy", Help: "remove dangling lease index entries",
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: m.handleTidy}},
	}
	for _, base := range []string{"leases/", ""} {
		paths = append(paths,
			&logical.Path{Pattern: base + "renew(?:/(?P<url_lease_id>.+))?", Help: "renew a lease",
				Fields:     idFields(map[string]*logical.Field{"increment": {Type: logical.TypeDuration}}),
				Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: m.handleRenew}},
			&logical.Path{Pattern: base + "revoke(?:/(?P<url_lease_id>.+))?", Help: "revoke a lease",
				Fields:     idFields(syncField),
				Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: m.handleRevoke}},
			&logical.Path{Pattern: base + "revoke-prefix/(?P<prefix>.+)", Help: "revoke leases under a prefix (sudo)",
				Fields:     syncField,
				Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: m.handleRevokePrefix(false)}},
			&logical.Path{Pattern: base + "revoke-force/(?P<prefix>.+)", Help: "revoke leases under a prefix, dropping failures (sudo)",
				Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: m.handleRevokePrefix(true)}},
		)
	}
	return paths
}

// leaseID takes the id from the URL or the body, as Vault does.
func leaseID(d *logical.FieldData) (string, error) {
	id := d.String("url_lease_id")
	if id == "" {
		id = d.String("lease_id")
	}
	if id == "" {
		return "", logical.InvalidRequest("lease_id must be specified")
	}
	return id, nil
}

// apiError maps the package's errors to error kinds with safe messages.
func apiError(err error) error {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidID):
		return logical.InvalidRequest("invalid lease")
	case errors.Is(err, ErrNotRenewable):
		return logical.InvalidRequest("lease is not renewable")
	case errors.Is(err, ErrMaxTTL):
		return logical.InvalidRequest("lease has reached its max TTL and cannot be renewed")
	}
	return &logical.Error{Kind: logical.KindInternal, Msg: "lease operation failed", Err: err}
}

// requireSudo backs up the core's sudo check for the root-protected paths.
func requireSudo(req *logical.Request) error {
	if req.Caller != nil && !req.Caller.Sudo && !req.Caller.Root {
		return logical.ErrPermissionDenied
	}
	return nil
}

func (m *Manager) handleLookup(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id, err := leaseID(d)
	if err != nil {
		return nil, err
	}
	l, err := m.Lookup(ctx, id)
	if err != nil {
		return nil, apiError(err)
	}
	var lastRenewal any
	if !l.LastRenewal.IsZero() {
		lastRenewal = l.LastRenewal.Format(time.RFC3339Nano)
	}
	ttl := max(int64(l.ExpireTime.Sub(m.now()).Seconds()), 0)
	return logical.DataResponse(map[string]any{
		"id": l.ID, "issue_time": l.IssueTime.Format(time.RFC3339Nano),
		"expire_time": l.ExpireTime.Format(time.RFC3339Nano), "last_renewal": lastRenewal,
		"renewable": l.Renewable && !l.Irrevocable, "ttl": ttl,
	}), nil
}

func (m *Manager) handleList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireSudo(req); err != nil {
		return nil, err
	}
	prefix := ""
	if _, ok := d.Schema["prefix"]; ok {
		prefix = d.String("prefix")
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	keys, err := m.List(ctx, prefix)
	if err != nil {
		return nil, apiError(err)
	}
	return logical.ListResponse(keys), nil
}

func (m *Manager) handleRenew(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id, err := leaseID(d)
	if err != nil {
		return nil, err
	}
	l, capped, err := m.Renew(ctx, id, d.Duration("increment"))
	if err != nil {
		return nil, apiError(err)
	}
	resp := &logical.Response{Secret: &logical.Secret{LeaseID: l.ID, TTL: l.TTL, Renewable: l.Renewable}}
	if capped {
		resp.Warn("TTL of the lease was capped by its max TTL")
	}
	return resp, nil
}

func (m *Manager) handleRevoke(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id, err := leaseID(d)
	if err != nil {
		return nil, err
	}
	if !d.Bool("sync") {
		if _, err := m.Lookup(ctx, id); err != nil {
			return nil, apiError(err)
		}
		now := m.now()
		if _, err := m.expireNow(ctx, id, now); err != nil {
			return nil, apiError(err)
		}
		m.arm(now)
		return &logical.Response{NoContent: true}, nil
	}
	if err := m.Revoke(ctx, id); err != nil {
		return nil, apiError(err)
	}
	return &logical.Response{NoContent: true}, nil
}

func (m *Manager) handleRevokePrefix(force bool) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		if err := requireSudo(req); err != nil {
			return nil, err
		}
		if err := m.RevokePrefix(ctx, d.String("prefix"), force); err != nil {
			return nil, apiError(err)
		}
		return &logical.Response{NoContent: true}, nil
	}
}

func (m *Manager) handleTidy(ctx context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	n, err := m.Tidy(ctx)
	if err != nil {
		return nil, apiError(err)
	}
	m.log.Info("lease: tidy removed dangling index entries", "removed", n)
	return &logical.Response{NoContent: true}, nil
}

func (m *Manager) handleIrrevocable(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if d.String("type") != "irrevocable" {
		return nil, logical.InvalidRequest("type must be \"irrevocable\"")
	}
	ls, err := m.Irrevocable(ctx)
	if err != nil {
		return nil, apiError(err)
	}
	out := make([]map[string]any, 0, len(ls))
	for _, l := range ls {
		out = append(out, map[string]any{"lease_id": l.ID, "mount_id": l.MountPoint, "error": l.LastError})
	}
	return logical.DataResponse(map[string]any{"lease_count": len(out), "leases": out}), nil
}
