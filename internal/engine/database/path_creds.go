package database

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// expirationLayout is how {{expiration}} is written, as Vault's plugin.
const expirationLayout = "2006-01-02 15:04:05-0700"

// Default statements, used when a role leaves them empty.
var (
	defaultRenewStatements    = []string{`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'`}
	defaultRevokeStatements   = []string{`REASSIGN OWNED BY "{{name}}" TO CURRENT_USER`, `DROP OWNED BY "{{name}}"`, `DROP ROLE IF EXISTS "{{name}}"`}
	defaultRotationStatements = []string{`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}'`}
	defaultRootStatements     = []string{`ALTER USER "{{username}}" WITH PASSWORD '{{password}}'`}
)

func (b *backend) credsPaths() []*logical.Path {
	return []*logical.Path{{
		Pattern: "creds/(?P<name>[^/]+)", Help: "issue credentials for a dynamic role",
		// A read that creates a database user: only the active node may.
		Standby: logical.StandbyForward,
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.credsRead,
			logical.RevokeOperation: b.credsRevoke,
			logical.RenewOperation:  b.credsRenew,
		}}}
}

// loadRole returns a role and its config's pool, checking allowed_roles.
func (b *backend) loadRole(ctx context.Context, name string) (*role, *dbConfig, error) {
	r, err := getJSON[role](ctx, b.store, "role/"+name)
	if err != nil {
		return nil, nil, err
	}
	if r == nil {
		return nil, nil, logical.InvalidRequest("unknown role: %s", name)
	}
	c, err := getJSON[dbConfig](ctx, b.store, "config/"+r.DBName)
	if err != nil {
		return nil, nil, err
	}
	if c == nil || !c.allows(name) {
		return nil, nil, logical.InvalidRequest("%q is not an allowed role", name)
	}
	return r, c, nil
}

// ttls is a role's TTL and max TTL, with the mount's as defaults and cap.
func (b *backend) ttls(r *role) (time.Duration, time.Duration) {
	ttl, maxTTL := r.DefaultTTL, r.MaxTTL
	if ttl == 0 {
		ttl = b.system.DefaultLeaseTTL()
	}
	if sysMax := b.system.MaxLeaseTTL(); maxTTL == 0 || (sysMax > 0 && maxTTL > sysMax) {
		maxTTL = sysMax
	}
	if maxTTL > 0 && ttl > maxTTL {
		ttl = maxTTL
	}
	return ttl, maxTTL
}

func (b *backend) credsRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	r, c, err := b.loadRole(ctx, name)
	if err != nil {
		return nil, err
	}
	_, p, err := b.pool(ctx, r.DBName)
	if err != nil {
		return nil, err
	}
	display := "token"
	if req.Caller != nil && req.Caller.DisplayName != "" {
		display = req.Caller.DisplayName
	}
	tmpl := r.UsernameTemplate
	if tmpl == "" {
		tmpl = c.UsernameTemplate
	}
	username, err := generateUsername(tmpl, b.now, display, name)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	password, err := b.newPassword(ctx, c)
	if err != nil {
		return nil, err
	}
	ttl, maxTTL := b.ttls(r)
	vars := map[string]string{"name": username, "username": username, "password": password,
		"expiration": b.now().Add(ttl).Format(expirationLayout)}
	if err := execStatements(ctx, p, r.CreationStatements, vars); err != nil {
		if len(r.RollbackStatements) > 0 {
			if rerr := execStatements(ctx, p, r.RollbackStatements, vars); rerr != nil {
				b.log.Error("database: rollback statements failed", "role", name, "error", rerr)
			}
		}
		return nil, dbError("error creating user", err)
	}
	return &logical.Response{
		Data: map[string]any{"username": username, "password": password},
		Secret: &logical.Secret{TTL: ttl, MaxTTL: maxTTL, Renewable: true,
			InternalData: map[string]any{"username": username, "role": name, "db_name": r.DBName}},
	}, nil
}

// leaseUser reads the user and config name from a revoke or renew request.
func leaseUser(req *logical.Request) (username, dbName string, err error) {
	if req.Secret == nil {
		return "", "", logical.InvalidRequest("missing lease data")
	}
	username, _ = req.Secret.InternalData["username"].(string)
	dbName, _ = req.Secret.InternalData["db_name"].(string)
	if username == "" || dbName == "" {
		return "", "", logical.InvalidRequest("lease data has no username")
	}
	return username, dbName, nil
}

// credsRevoke drops a dynamic user with the role's revocation statements
// (or the defaults when the role has none or is gone). A user that no longer
// exists counts as revoked.
func (b *backend) credsRevoke(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	username, dbName, err := leaseUser(req)
	if err != nil {
		return nil, err
	}
	stmts := defaultRevokeStatements
	if r, err := getJSON[role](ctx, b.store, "role/"+d.String("name")); err == nil && r != nil && len(r.RevocationStatements) > 0 {
		stmts = r.RevocationStatements
	}
	_, p, err := b.pool(ctx, dbName)
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := p.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", username).Scan(&exists); err != nil {
		return nil, dbError("error revoking user", err)
	}
	if !exists {
		return nil, nil
	}
	if err := execStatements(ctx, p, stmts, map[string]string{"name": username, "username": username}); err != nil {
		return nil, dbError("error revoking user", err)
	}
	return nil, nil
}

// credsRenew extends a dynamic user's VALID UNTIL by the increment asked
// for (the role's default TTL when zero), capped by the role's max TTL.
func (b *backend) credsRenew(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	username, dbName, err := leaseUser(req)
	if err != nil {
		return nil, err
	}
	r, _, err := b.loadRole(ctx, d.String("name"))
	if err != nil {
		return nil, err
	}
	ttl, maxTTL := b.ttls(r)
	if inc, err := logical.ParseDuration(req.Get("increment")); err == nil && inc > 0 {
		ttl = inc
	}
	if maxTTL > 0 && ttl > maxTTL {
		ttl = maxTTL
	}
	stmts := r.RenewStatements
	if len(stmts) == 0 {
		stmts = defaultRenewStatements
	}
	_, p, err := b.pool(ctx, dbName)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{"name": username, "username": username,
		"expiration": b.now().Add(ttl).Format(expirationLayout)}
	if err := execStatements(ctx, p, stmts, vars); err != nil {
		return nil, dbError(fmt.Sprintf("error renewing user %s", username), err)
	}
	return &logical.Response{Secret: &logical.Secret{TTL: ttl, MaxTTL: maxTTL, Renewable: true}}, nil
}
