package bench

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// tokenLookup looks up a token of its own with that token
// (auth/token/lookup-self), the call every Vault client makes first.
type tokenLookup struct {
	token string
}

func (w *tokenLookup) Name() string { return "token-lookup" }

// Setup creates a token with the default policy and a one-hour TTL.
func (w *tokenLookup) Setup(ctx context.Context, c *apiclient.Client) error {
	s, err := c.Write(ctx, "auth/token/create", map[string]any{"policies": []string{"default"}, "ttl": "1h"})
	if err != nil {
		return fmt.Errorf("token-lookup setup: %w", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("token-lookup setup: auth/token/create returned no token")
	}
	w.token = s.Auth.ClientToken
	return nil
}

func (w *tokenLookup) Next(*mrand.Rand, uint64) Op {
	return Op{Method: http.MethodGet, Path: "auth/token/lookup-self", Token: w.token}
}

// Cleanup revokes the token.
func (w *tokenLookup) Cleanup(ctx context.Context, c *apiclient.Client) error {
	if w.token == "" {
		return nil
	}
	if _, err := c.Write(ctx, "auth/token/revoke", map[string]any{"token": w.token}); err != nil {
		return fmt.Errorf("token-lookup cleanup: %w", err)
	}
	return nil
}

// enableAuth enables an auth method of type typ at path, or reports
// ErrAuthNotMounted with the server's reason.
func enableAuth(ctx context.Context, c *apiclient.Client, path, typ string) error {
	body := map[string]any{"type": typ, "description": "coffer bench, removed after the run"}
	if _, err := c.Write(ctx, "sys/auth/"+path, body); err != nil {
		return fmt.Errorf("%w: %s (the server could not enable it at auth/%s: %w)", ErrAuthNotMounted, typ, path, err)
	}
	return nil
}

// disableAuth disables the auth method at path; one already gone is fine.
func disableAuth(ctx context.Context, c *apiclient.Client, path string) error {
	if path == "" {
		return nil
	}
	if _, err := c.Delete(ctx, "sys/auth/"+path, nil); err != nil && !apiclient.IsStatus(err, 404) {
		return fmt.Errorf("disable auth/%s: %w", path, err)
	}
	return nil
}

// loginTokenFields are the role settings every login workload uses; batch
// tokens write nothing to storage per login where the server supports them.
func loginTokenFields(tokenType string) map[string]any {
	return map[string]any{"token_type": tokenType, "token_policies": []string{"default"}, "token_ttl": "5m"}
}

// approleLogin logs in with AppRole (auth/<mount>/login, role_id and
// secret_id) on an auth mount of its own.
type approleLogin struct {
	tokenType string
	path      string
	body      []byte
}

func (w *approleLogin) Name() string { return "login-approle" }

// Setup enables AppRole, creates a role and fetches its role and secret IDs.
func (w *approleLogin) Setup(ctx context.Context, c *apiclient.Client) error {
	path := uniqueName("bench-approle-")
	if err := enableAuth(ctx, c, path, "approle"); err != nil {
		return err
	}
	w.path = path
	role := "auth/" + path + "/role/bench"
	if _, err := c.Write(ctx, role, loginTokenFields(w.tokenType)); err != nil {
		return fmt.Errorf("login-approle setup: %w", err)
	}
	rid, err := c.Read(ctx, role+"/role-id", nil)
	if err != nil {
		return fmt.Errorf("login-approle setup: %w", err)
	}
	sid, err := c.Write(ctx, role+"/secret-id", nil)
	if err != nil {
		return fmt.Errorf("login-approle setup: %w", err)
	}
	roleID, secretID := dataString(rid, "role_id"), dataString(sid, "secret_id")
	if roleID == "" || secretID == "" {
		return fmt.Errorf("login-approle setup: the server returned no role_id or secret_id")
	}
	w.body, err = json.Marshal(map[string]string{"role_id": roleID, "secret_id": secretID})
	if err != nil {
		return fmt.Errorf("login-approle setup: %w", err)
	}
	return nil
}

func (w *approleLogin) Next(*mrand.Rand, uint64) Op {
	return Op{Method: http.MethodPost, Path: "auth/" + w.path + "/login", Body: w.body, Token: NoToken}
}

// Cleanup disables the auth mount, which removes the role.
func (w *approleLogin) Cleanup(ctx context.Context, c *apiclient.Client) error {
	return disableAuth(ctx, c, w.path)
}

// userpassLogin logs in with a username and password
// (auth/<mount>/login/<user>) on an auth mount of its own.
type userpassLogin struct {
	tokenType       string
	path, loginPath string
	body            []byte
}

func (w *userpassLogin) Name() string { return "login-userpass" }

// Setup enables userpass and creates one user with a random password.
func (w *userpassLogin) Setup(ctx context.Context, c *apiclient.Client) error {
	path := uniqueName("bench-userpass-")
	if err := enableAuth(ctx, c, path, "userpass"); err != nil {
		return err
	}
	w.path = path
	password := randomValue(24)
	user := loginTokenFields(w.tokenType)
	user["password"] = password
	if _, err := c.Write(ctx, "auth/"+path+"/users/bench", user); err != nil {
		return fmt.Errorf("login-userpass setup: %w", err)
	}
	body, err := json.Marshal(map[string]string{"password": password})
	if err != nil {
		return fmt.Errorf("login-userpass setup: %w", err)
	}
	w.body, w.loginPath = body, "auth/"+path+"/login/bench"
	return nil
}

func (w *userpassLogin) Next(*mrand.Rand, uint64) Op {
	return Op{Method: http.MethodPost, Path: w.loginPath, Body: w.body, Token: NoToken}
}

// Cleanup disables the auth mount, which removes the user.
func (w *userpassLogin) Cleanup(ctx context.Context, c *apiclient.Client) error {
	return disableAuth(ctx, c, w.path)
}

// dataString returns s.Data[key] when it is a string.
func dataString(s *apiclient.Secret, key string) string {
	if s == nil {
		return ""
	}
	v, _ := s.Data[key].(string)
	return v
}
