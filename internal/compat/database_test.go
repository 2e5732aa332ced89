package compat

import (
	"context"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/cofferdev/coffer/internal/server/servertest"
	"github.com/cofferdev/coffer/internal/testpg"
)

// TestDynamicDatabaseCredentials drives the database engine through the
// server's lease pipeline with the Vault client: creds get a lease bound to
// the token; revoking the lease, or the token, drops the PostgreSQL role.
func TestDynamicDatabaseCredentials(t *testing.T) {
	pg := testpg.Start(t)
	in := servertest.Start(t, servertest.Options{})
	c := in.Client
	if err := c.Sys().Mount("database", &vaultapi.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, c, "database/config/pg", map[string]any{
		"plugin_name": "postgresql-database-plugin", "connection_url": pg.TemplateURL(),
		"username": testpg.SuperUser, "password": pg.Password, "allowed_roles": "ro",
	})
	mustWrite(t, c, "database/roles/ro", map[string]any{
		"db_name": "pg", "default_ttl": "1h", "max_ttl": "2h",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`},
	})
	if s, err := c.Logical().Read("database/config/pg"); err != nil || s.Data["password"] != nil {
		t.Fatalf("config read exposes the root password or fails: %v, %v", s, err)
	}

	creds := func(cl *vaultapi.Client) (*vaultapi.Secret, string, string) {
		t.Helper()
		s, err := cl.Logical().Read("database/creds/ro")
		if err != nil {
			t.Fatal(err)
		}
		if s.LeaseID == "" || s.LeaseDuration != 3600 || !s.Renewable {
			t.Fatalf("creds lease = %q %d %v; want a renewable 1h lease", s.LeaseID, s.LeaseDuration, s.Renewable)
		}
		return s, s.Data["username"].(string), s.Data["password"].(string)
	}
	canLogin := func(user, password string) bool {
		conn, err := pgx.Connect(context.Background(), pg.URL(user, password))
		if err != nil {
			return false
		}
		conn.Close(context.Background())
		return true
	}

	s, user, pass := creds(c)
	if !canLogin(user, pass) {
		t.Fatal("issued credentials cannot log in")
	}
	look, err := c.Sys().Lookup(s.LeaseID)
	if err != nil || look.Data["id"] != s.LeaseID {
		t.Fatalf("lease lookup = %v, %v", look, err)
	}
	ren, err := c.Sys().Renew(s.LeaseID, 7200)
	if err != nil || ren.LeaseDuration > 7200 || ren.LeaseDuration < 3600 {
		t.Fatalf("renew = %+v, %v", ren, err)
	}
	if err := c.Sys().Revoke(s.LeaseID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "revoked credentials to stop working", func() bool { return !canLogin(user, pass) })

	// Revoking the token that obtained credentials revokes their lease.
	tok := createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"root"}})
	tc := in.NewClient(t, tok)
	_, user2, pass2 := creds(tc)
	if !canLogin(user2, pass2) {
		t.Fatal("second credentials cannot log in")
	}
	if err := c.Auth().Token().RevokeTree(tok); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "credentials of a revoked token to stop working", func() bool { return !canLogin(user2, pass2) })
	in.CheckNoLeaks(t, pass, pass2, pg.Password)
}

func mustWrite(t *testing.T, c *vaultapi.Client, path string, data map[string]any) {
	t.Helper()
	if _, err := c.Logical().Write(path, data); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLeaseExpiryAfterUnseal: a lease issued before a seal still expires on
// time after the next unseal, and its credentials stop working.
func TestLeaseExpiryAfterUnseal(t *testing.T) {
	pg := testpg.Start(t)
	in := servertest.Start(t, servertest.Options{})
	c := in.Client
	if err := c.Sys().Mount("database", &vaultapi.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, c, "database/config/pg", map[string]any{
		"plugin_name": "postgresql-database-plugin", "connection_url": pg.TemplateURL(),
		"username": testpg.SuperUser, "password": pg.Password, "allowed_roles": "*",
	})
	mustWrite(t, c, "database/roles/short", map[string]any{
		"db_name": "pg", "default_ttl": "3s", "max_ttl": "3s",
		"creation_statements": []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';`},
	})
	s, err := c.Logical().Read("database/creds/short")
	if err != nil {
		t.Fatal(err)
	}
	user, pass := s.Data["username"].(string), s.Data["password"].(string)
	in.Server.Core.Seal(t.Context())
	if _, err := c.Sys().Unseal(hexOf(in.Keys[0])); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lease to expire after unseal and drop the role", func() bool {
		conn, err := pgx.Connect(context.Background(), pg.URL(user, pass))
		if err != nil {
			return true
		}
		conn.Close(context.Background())
		return false
	})
	if _, err := c.Sys().Lookup(s.LeaseID); err == nil {
		t.Fatal("expired lease still listed")
	}
}
