package database

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// dbConfig is one stored connection config. Password is the root password:
// it is never returned by the API and never logged.
type dbConfig struct {
	PluginName             string        `json:"plugin_name"`
	ConnectionURL          string        `json:"connection_url"`
	Username               string        `json:"username"`
	Password               string        `json:"password"`
	AllowedRoles           []string      `json:"allowed_roles"`
	VerifyConnection       bool          `json:"verify_connection"`
	PasswordPolicy         string        `json:"password_policy"`
	MaxOpenConnections     int           `json:"max_open_connections"`
	MaxIdleConnections     int           `json:"max_idle_connections"`
	MaxConnectionLifetime  time.Duration `json:"max_connection_lifetime"`
	RootRotationStatements []string      `json:"root_rotation_statements"`
	UsernameTemplate       string        `json:"username_template"`
}

// LogValue keeps the root password out of logs.
func (c *dbConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", "[REDACTED]"))
}

// String keeps the root password out of formatted output.
func (c *dbConfig) String() string { return "database config [REDACTED]" }

// allows reports whether role may use this config (allowed_roles: names or
// "*"; empty allows none, as Vault).
func (c *dbConfig) allows(role string) bool {
	for _, r := range c.AllowedRoles {
		if r == "*" || r == role {
			return true
		}
	}
	return false
}

func getJSON[T any](ctx context.Context, s storage.Backend, key string) (*T, error) {
	e, err := s.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("database: read %q: %w", key, err)
	}
	var v T
	if err := json.Unmarshal(e.Value, &v); err != nil {
		return nil, fmt.Errorf("database: decode %q: %w", key, err)
	}
	return &v, nil
}

func encodeJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("database: encode: %w", err)
	}
	return raw, nil
}

func putJSON(ctx context.Context, s storage.Backend, key string, v any) error {
	raw, err := encodeJSON(v)
	if err != nil {
		return err
	}
	if err := s.Put(ctx, &storage.Entry{Key: key, Value: raw}); err != nil {
		return fmt.Errorf("database: write %q: %w", key, err)
	}
	return nil
}

// escapeUserinfo escapes a user name or password for a URL's userinfo.
func escapeUserinfo(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// connString fills the {{username}} and {{password}} placeholders.
func connString(c *dbConfig) string {
	user, pass := c.Username, c.Password
	if strings.HasPrefix(c.ConnectionURL, "postgres://") || strings.HasPrefix(c.ConnectionURL, "postgresql://") {
		user, pass = escapeUserinfo(user), escapeUserinfo(pass)
	}
	return strings.NewReplacer("{{username}}", user, "{{password}}", pass).Replace(c.ConnectionURL)
}

// openPool connects with c and pings the server.
func openPool(ctx context.Context, c *dbConfig) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(connString(c))
	if err != nil {
		return nil, scrub(fmt.Errorf("parse connection_url: %w", err), c.Password)
	}
	if c.MaxOpenConnections > 0 {
		pc.MaxConns = int32(c.MaxOpenConnections)
	}
	if c.MaxIdleConnections > 0 {
		pc.MinIdleConns = int32(min(c.MaxIdleConnections, int(pc.MaxConns)))
	}
	if c.MaxConnectionLifetime > 0 {
		pc.MaxConnLifetime = c.MaxConnectionLifetime
	}
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, scrub(fmt.Errorf("connect: %w", err), c.Password)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, scrub(fmt.Errorf("connect: %w", err), c.Password)
	}
	return p, nil
}

// maxPoolAttempts bounds how often pool opens a pool again because the
// config changed while it was opening one.
const maxPoolAttempts = 3

// pool returns the config name and its (cached) connection pool. Pools are
// opened one at a time (openMu) but without holding mu, so dropping a pool
// (dropPool, closePool) never waits for a connection attempt. A pool is
// only cached if no pool was dropped (a config changed) since the config it
// was built from was read; otherwise it is closed and built again from the
// stored config, so a pool built from an older config never stays cached.
func (b *backend) pool(ctx context.Context, name string) (*dbConfig, *pgxpool.Pool, error) {
	b.mu.Lock()
	p, ok := b.pools[name]
	gen := b.poolGen
	b.mu.Unlock()
	c, err := b.loadConfig(ctx, name)
	if err != nil || ok {
		return c, p, err
	}
	b.openMu.Lock()
	defer b.openMu.Unlock()
	for range maxPoolAttempts {
		b.mu.Lock()
		if p, ok := b.pools[name]; ok {
			b.mu.Unlock()
			return c, p, nil
		}
		stale := b.poolGen != gen
		gen = b.poolGen
		b.mu.Unlock()
		if stale {
			if c, err = b.loadConfig(ctx, name); err != nil {
				return nil, nil, err
			}
		}
		p, err := openPool(ctx, c)
		if err != nil {
			return nil, nil, &logical.Error{Kind: logical.KindInternal,
				Msg: fmt.Sprintf("error connecting to database %q: %v", name, err), Err: err}
		}
		b.mu.Lock()
		if b.poolGen == gen {
			b.pools[name] = p
			b.mu.Unlock()
			return c, p, nil
		}
		b.mu.Unlock()
		p.Close()
	}
	return nil, nil, &logical.Error{Kind: logical.KindInternal,
		Msg: fmt.Sprintf("database config %q kept changing while connecting; try again", name)}
}

// loadConfig reads a config that must exist.
func (b *backend) loadConfig(ctx context.Context, name string) (*dbConfig, error) {
	c, err := getJSON[dbConfig](ctx, b.store, "config/"+name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, logical.InvalidRequest("no database config %q", name)
	}
	return c, nil
}

// closePool drops the cached pool of a config and closes it, waiting for
// the queries in flight on it.
func (b *backend) closePool(name string) {
	for _, p := range b.dropPools(name) {
		p.Close()
	}
}

// dropPools removes the cached pools of the named configs (of every config
// when names is empty) and returns them for the caller to close. It never
// waits for I/O.
func (b *backend) dropPools(names ...string) []*pgxpool.Pool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.poolGen++
	var out []*pgxpool.Pool
	if len(names) == 0 {
		for _, p := range b.pools {
			out = append(out, p)
		}
		clear(b.pools)
		return out
	}
	for _, n := range names {
		if p, ok := b.pools[n]; ok {
			out = append(out, p)
			delete(b.pools, n)
		}
	}
	return out
}

// splitStatements splits each statement on ";" as Vault does, except ones
// holding a "$$" block, which run whole.
func splitStatements(stmts []string) []string {
	var out []string
	for _, s := range stmts {
		if strings.Contains(s, "$$") {
			out = append(out, s)
			continue
		}
		for _, part := range strings.Split(s, ";") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// execStatements runs the statements, with {{name}}, {{username}},
// {{password}} and {{expiration}} filled in, in one transaction. Errors never
// carry the password.
func execStatements(ctx context.Context, p *pgxpool.Pool, stmts []string, vars map[string]string) error {
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		if k == "password" {
			// Statements quote it as '{{password}}'; a password policy may
			// allow a quote, which SQL writes doubled.
			v = strings.ReplaceAll(v, "'", "''")
		}
		pairs = append(pairs, "{{"+k+"}}", v)
	}
	r := strings.NewReplacer(pairs...)
	split := splitStatements(stmts)
	var err error
	if len(split) == 1 {
		// One statement is atomic on its own: no transaction round trips.
		_, err = p.Exec(ctx, r.Replace(split[0]))
	} else {
		// Several run in one transaction, sent as one batch (one round
		// trip for all of them).
		err = pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
			batch := &pgx.Batch{}
			for _, s := range split {
				batch.Queue(r.Replace(s))
			}
			return tx.SendBatch(ctx, batch).Close()
		})
	}
	if err != nil {
		return scrub(err, vars["password"])
	}
	return nil
}

// scrub returns err with every occurrence of secret replaced.
func scrub(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[REDACTED]"))
}

// dbError wraps a database failure as an internal error with a safe message.
func dbError(what string, err error) error {
	var le *logical.Error
	if errors.As(err, &le) {
		return err
	}
	return &logical.Error{Kind: logical.KindInternal, Msg: fmt.Sprintf("%s: %v", what, err), Err: err}
}

// statementsField reads a statements field that may be a string or a list
// (a comma-separated string would split SQL, so TypeStringSlice is not used).
func statementsField(d *logical.FieldData, name string) ([]string, bool, error) {
	v, ok := d.GetOk(name)
	if !ok {
		return nil, false, nil
	}
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil, true, nil
		}
		return []string{t}, true, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false, logical.InvalidRequest("field %q: want a list of strings", name)
			}
			out = append(out, s)
		}
		return out, true, nil
	case []string:
		return t, true, nil
	}
	return nil, false, logical.InvalidRequest("field %q: want a string or a list of strings", name)
}
