package database

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferdev/coffer/internal/lease"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/testpg"
)

// testClock is a settable clock for the static-role scheduler.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.off += d; c.mu.Unlock() }

// env is a database engine wired to a throwaway PostgreSQL cluster.
type env struct {
	pg    *testpg.Server
	b     *backend
	clock *testClock
	// adminPassword is the config's root password as first written.
	adminPassword string
}

const adminUser = "coffer_admin"

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, inmem.New()) }

// newEnvWith is newEnv over the given engine storage.
func newEnvWith(t *testing.T, store storage.Backend) *env {
	t.Helper()
	return newEnvSystem(t, store, logical.StaticSystemView{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour})
}

// newEnvSystem is newEnv over the given storage and system view.
func newEnvSystem(t *testing.T, store storage.Backend, system logical.SystemView) *env {
	t.Helper()
	e := &env{pg: testpg.Start(t), clock: &testClock{}, adminPassword: "Admin-pass-1"}
	e.superExec(t,
		`CREATE ROLE `+adminUser+` WITH SUPERUSER LOGIN PASSWORD '`+e.adminPassword+`'`,
		`CREATE TABLE granted (id int)`, `CREATE TABLE other (id int)`, `INSERT INTO granted VALUES (1)`)
	conf := &logical.BackendConfig{Storage: store, MountPath: "database/", System: system}
	e.b = newBackend(conf, 50*time.Millisecond, e.clock.now)
	t.Cleanup(func() { e.b.Cleanup(context.Background()) })
	e.must(t, logical.UpdateOperation, "config/pg", map[string]any{
		"plugin_name": PluginName, "connection_url": e.pg.TemplateURL(), "username": adminUser,
		"password": e.adminPassword, "allowed_roles": "*", "max_open_connections": 2,
	})
	e.must(t, logical.UpdateOperation, "roles/ro", map[string]any{
		"db_name": "pg", "default_ttl": "1h", "max_ttl": "2h",
		"creation_statements": []any{
			`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
			`GRANT SELECT ON granted TO "{{name}}";`,
		},
	})
	return e
}

func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data,
		Caller: &logical.Caller{DisplayName: "token"}})
}

func (e *env) must(t *testing.T, op logical.Operation, path string, data map[string]any) *logical.Response {
	t.Helper()
	resp, err := e.do(op, path, data)
	if err != nil {
		t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

func (e *env) superExec(t *testing.T, stmts ...string) {
	t.Helper()
	conn := e.connect(t, testpg.SuperUser, e.pg.Password)
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func (e *env) connect(t *testing.T, user, password string) *pgx.Conn {
	t.Helper()
	conn, err := e.tryConnect(user, password)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (e *env) tryConnect(user, password string) (*pgx.Conn, error) {
	return pgx.Connect(context.Background(), e.pg.URL(user, password))
}

func (e *env) canLogin(user, password string) bool {
	conn, err := e.tryConnect(user, password)
	if err != nil {
		return false
	}
	conn.Close(context.Background())
	return true
}

func (e *env) roleExists(t *testing.T, name string) bool {
	t.Helper()
	var ok bool
	conn := e.connect(t, testpg.SuperUser, e.pg.Password)
	if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname=$1)", name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// engineRevoker is what the core does for the lease manager: it sends the
// engine revoke and renew requests on the path that created the lease.
type engineRevoker struct{ b *backend }

func (r engineRevoker) RevokeLease(ctx context.Context, l *lease.Lease) error {
	_, err := r.b.HandleRequest(ctx, &logical.Request{Operation: logical.RevokeOperation, Path: l.Path,
		Secret: &logical.Secret{LeaseID: l.ID, InternalData: l.InternalData}})
	return err
}

func (r engineRevoker) RenewLease(ctx context.Context, l *lease.Lease, inc time.Duration) (time.Duration, error) {
	resp, err := r.b.HandleRequest(ctx, &logical.Request{Operation: logical.RenewOperation, Path: l.Path,
		Data: map[string]any{"increment": inc}, Secret: &logical.Secret{LeaseID: l.ID, InternalData: l.InternalData}})
	if err != nil {
		return 0, err
	}
	return resp.Secret.TTL, nil
}

// issue reads creds/<role> and registers the lease as the core would.
func (e *env) issue(t *testing.T, m *lease.Manager, roleName string) (id, user, password string) {
	t.Helper()
	resp := e.must(t, logical.ReadOperation, "creds/"+roleName, nil)
	s := resp.Secret
	id, err := m.Register(context.Background(), &lease.Lease{MountPoint: "database/", Path: "creds/" + roleName,
		TTL: s.TTL, MaxTTL: s.MaxTTL, Renewable: s.Renewable, InternalData: s.InternalData})
	if err != nil {
		t.Fatal(err)
	}
	return id, resp.Data["username"].(string), resp.Data["password"].(string)
}
