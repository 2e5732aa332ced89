package database

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/lease"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func TestDynamicCredentials(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	resp := e.must(t, logical.ReadOperation, "creds/ro", nil)
	user, pass := resp.Data["username"].(string), resp.Data["password"].(string)
	if !strings.HasPrefix(user, "v-token-ro-") || resp.Secret == nil || resp.Secret.TTL != time.Hour ||
		resp.Secret.MaxTTL != 2*time.Hour || resp.Secret.InternalData["username"] != user || !resp.Secret.Renewable {
		t.Fatalf("creds response = %+v secret %+v", resp.Data, resp.Secret)
	}
	conn := e.connect(t, user, pass)
	privileges := []struct {
		sql     string
		allowed bool
	}{
		{"SELECT count(*) FROM granted", true},
		{"INSERT INTO granted VALUES (2)", false},
		{"SELECT count(*) FROM other", false},
		{"CREATE TABLE mine (id int)", false},
	}
	for _, p := range privileges {
		t.Run(p.sql, func(t *testing.T) {
			_, err := conn.Exec(ctx, p.sql)
			if (err == nil) != p.allowed {
				t.Fatalf("%s: err = %v, want allowed=%v", p.sql, err, p.allowed)
			}
		})
	}
	conn.Close(ctx)

	revoke := &logical.Request{Operation: logical.RevokeOperation, Path: "creds/ro", Secret: resp.Secret}
	for i := range 2 { // the second revocation finds the user gone and succeeds
		if _, err := e.b.HandleRequest(ctx, revoke); err != nil {
			t.Fatalf("revoke #%d: %v", i+1, err)
		}
	}
	if e.roleExists(t, user) || e.canLogin(user, pass) {
		t.Fatal("revoked user still exists or logs in")
	}
}

func TestLeaseRenewAndExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.must(t, logical.UpdateOperation, "roles/short", map[string]any{
		"db_name": "pg", "default_ttl": 2, "max_ttl": 4,
		"creation_statements": `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
	})
	m := lease.New(inmem.New(), engineRevoker{e.b}, lease.Options{RetryBase: 100 * time.Millisecond})
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	id, user, pass := e.issue(t, m, "short")
	l, capped, err := m.Renew(ctx, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !capped || l.ExpireTime.After(l.IssueTime.Add(4*time.Second)) {
		t.Fatalf("renew past max ttl: expiry %v after issue, capped %v", l.ExpireTime.Sub(l.IssueTime), capped)
	}
	var validUntil time.Time
	conn := e.connect(t, "postgres", e.pg.Password)
	if err := conn.QueryRow(ctx, "SELECT rolvaliduntil FROM pg_roles WHERE rolname=$1", user).Scan(&validUntil); err != nil {
		t.Fatal(err)
	}
	if validUntil.After(l.IssueTime.Add(4*time.Second + time.Second)) {
		t.Fatalf("VALID UNTIL %v is past the max TTL (issued %v)", validUntil, l.IssueTime)
	}
	if !e.canLogin(user, pass) {
		t.Fatal("renewed user cannot log in")
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.roleExists(t, user) {
		if time.Now().After(deadline) {
			t.Fatal("user not dropped after its lease expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e.canLogin(user, pass) {
		t.Fatal("expired user logs in")
	}
	if _, err := m.Lookup(ctx, id); err == nil {
		t.Fatal("expired lease still stored")
	}
}

func TestStaticRoleRotation(t *testing.T) {
	e := newEnv(t)
	e.superExec(t, `CREATE ROLE app WITH LOGIN PASSWORD 'app-old-password'`)
	e.must(t, logical.CreateOperation, "static-roles/app", map[string]any{
		"db_name": "pg", "username": "app", "rotation_period": "1h"})
	if e.canLogin("app", "app-old-password") {
		t.Fatal("the password from before the static role was created still works")
	}
	creds := func() string {
		resp := e.must(t, logical.ReadOperation, "static-creds/app", nil)
		if resp.Data["username"] != "app" || resp.Data["ttl"].(int64) > 3600 {
			t.Fatalf("static-creds = %v", resp.Data)
		}
		return resp.Data["password"].(string)
	}
	first := creds()
	if !e.canLogin("app", first) {
		t.Fatal("static-creds password does not work")
	}
	steps := []struct {
		name   string
		rotate func()
	}{
		{"rotate-role", func() { e.must(t, logical.UpdateOperation, "rotate-role/app", nil) }},
		{"schedule", func() { e.clock.advance(time.Hour + time.Second) }},
	}
	prev := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.rotate()
			deadline := time.Now().Add(20 * time.Second)
			for creds() == prev {
				if time.Now().After(deadline) {
					t.Fatal("password not rotated")
				}
				time.Sleep(20 * time.Millisecond)
			}
			now := creds()
			if e.canLogin("app", prev) || !e.canLogin("app", now) {
				t.Fatal("old password works or new one does not")
			}
			prev = now
		})
	}
}

func TestRotateRoot(t *testing.T) {
	e := newEnv(t)
	e.must(t, logical.UpdateOperation, "rotate-root/pg", nil)
	if e.canLogin(adminUser, e.adminPassword) {
		t.Fatal("old root password still works")
	}
	resp := e.must(t, logical.ReadOperation, "creds/ro", nil)
	if !e.canLogin(resp.Data["username"].(string), resp.Data["password"].(string)) {
		t.Fatal("engine does not work after rotate-root")
	}
	cfg := e.must(t, logical.ReadOperation, "config/pg", nil)
	if strings.Contains(strings.ToLower(stringify(cfg.Data)), "password\":") || strings.Contains(stringify(cfg.Data), e.adminPassword) {
		t.Fatalf("config read exposes a password: %v", cfg.Data)
	}
	e.must(t, logical.UpdateOperation, "reset/pg", nil)
	e.must(t, logical.ReadOperation, "creds/ro", nil)
}

func TestRevokeWhileDatabaseDown(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	resp := e.must(t, logical.ReadOperation, "creds/ro", nil)
	user := resp.Data["username"].(string)
	if err := e.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	revoke := &logical.Request{Operation: logical.RevokeOperation, Path: "creds/ro", Secret: resp.Secret}
	_, err := e.b.HandleRequest(ctx, revoke)
	if err == nil {
		t.Fatal("revoke succeeded with the database down")
	}
	if strings.Contains(err.Error(), e.adminPassword) {
		t.Fatalf("error exposes the root password: %v", err)
	}
	if err := e.pg.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.HandleRequest(ctx, revoke); err != nil {
		t.Fatalf("revoke after restart: %v", err)
	}
	if e.roleExists(t, user) {
		t.Fatal("user survived revocation")
	}
}

func TestExpiryRetriedUntilDatabaseReturns(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.must(t, logical.UpdateOperation, "roles/short", map[string]any{
		"db_name": "pg", "default_ttl": 1,
		"creation_statements": `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
	})
	m := lease.New(inmem.New(), engineRevoker{e.b}, lease.Options{RetryBase: 200 * time.Millisecond, MaxAttempts: 100})
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	id, user, _ := e.issue(t, m, "short")
	if err := e.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := m.Lookup(ctx, id)
		if err != nil {
			t.Fatalf("lease gone while the database is down: %v", err)
		}
		if l.Attempts >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("revocation not retried")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := e.pg.Start(); err != nil {
		t.Fatal(err)
	}
	for e.roleExists(t, user) {
		if time.Now().After(deadline) {
			t.Fatal("user not dropped after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The role is dropped before the manager deletes the lease record.
	for {
		if _, err := m.Lookup(ctx, id); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lease still stored after revocation")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// failCommit makes the next storage transaction that writes a key under
// prefix fail, as a crash between the database accepting a password and
// Coffer storing it would. Matching the key keeps the engine's background
// loop (which settles journals with transactions of its own) from taking
// the failure meant for the request under test.
type failCommit struct {
	storage.Backend
	prefix atomic.Pointer[string]
}

func (f *failCommit) failNext(prefix string) { f.prefix.Store(&prefix) }

func (f *failCommit) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if p := f.prefix.Load(); p != nil {
		for _, op := range ops {
			if strings.HasPrefix(op.Entry.Key, *p) && f.prefix.CompareAndSwap(p, nil) {
				return errors.New("injected commit failure")
			}
		}
	}
	return f.Backend.Transaction(ctx, ops)
}

// TestInterruptedRotationsAreSettled loses the commit of a static-role and
// a root rotation after the database took the new password: the journal
// lets the engine recover both, so the stored credentials work again.
func TestInterruptedRotationsAreSettled(t *testing.T) {
	fc := &failCommit{Backend: inmem.New()}
	e := newEnvWith(t, fc)
	e.superExec(t, `CREATE ROLE app WITH LOGIN PASSWORD 'app-old-password'`)
	e.must(t, logical.CreateOperation, "static-roles/app", map[string]any{
		"db_name": "pg", "username": "app", "rotation_period": "24h"})
	before := e.must(t, logical.ReadOperation, "static-creds/app", nil).Data["password"].(string)

	fc.failNext("static-role/app")
	if _, err := e.do(logical.UpdateOperation, "rotate-role/app", nil); err == nil {
		t.Fatal("rotation with a failed commit reported success")
	}
	if e.canLogin("app", before) {
		t.Fatal("the database did not take the new password; the test injects the failure too late")
	}
	fc.failNext("config/pg")
	if _, err := e.do(logical.UpdateOperation, "rotate-root/pg", nil); err == nil {
		t.Fatal("root rotation with a failed commit reported success")
	}
	if e.canLogin(adminUser, e.adminPassword) {
		t.Fatal("the database still takes the old root password")
	}

	e.b.rotMu.Lock()
	e.b.reconcile(context.Background())
	e.b.rotMu.Unlock()
	after := e.must(t, logical.ReadOperation, "static-creds/app", nil).Data["password"].(string)
	if after == before || !e.canLogin("app", after) {
		t.Fatal("the static role's stored password does not work after reconcile")
	}
	resp := e.must(t, logical.ReadOperation, "creds/ro", nil) // needs the root password
	if !e.canLogin(resp.Data["username"].(string), resp.Data["password"].(string)) {
		t.Fatal("dynamic credentials do not work after the root password was reconciled")
	}
	if keys, err := e.b.store.List(context.Background(), journalPrefix+journalStatic+"/"); err != nil || len(keys) != 0 {
		t.Fatalf("journal not empty after reconcile: %v, %v", keys, err)
	}
	if keys, err := e.b.store.List(context.Background(), journalPrefix+journalRoot+"/"); err != nil || len(keys) != 0 {
		t.Fatalf("root journal not empty after reconcile: %v, %v", keys, err)
	}
}
