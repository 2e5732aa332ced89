package cli

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// serviceAccountTokenPath is where Kubernetes mounts a pod's token.
const serviceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// loginCall is the API request that logs in with one method.
type loginCall struct {
	path string
	body map[string]any
}

// methodLogin logs in with an auth method from K=V arguments, stores the
// token unless noStore, and prints the auth block.
func (a *app) methodLogin(cmd *cobra.Command, method, mount string, args []string, noStore bool) error {
	p, err := a.printer(cmd)
	if err != nil {
		return err
	}
	kv, err := parseData(args, a.stdin)
	if err != nil {
		return usageError(cmd, "%v", err)
	}
	if mount == "" {
		mount = method
	}
	mount = strings.Trim(mount, "/")
	c, err := a.client()
	if err != nil {
		return err
	}
	c = c.WithToken("")
	var secret *apiclient.Secret
	if method == "oidc" {
		secret, err = a.oidcLogin(cmd.Context(), c, mount, kv)
	} else {
		var call *loginCall
		if call, err = a.loginCall(cmd, method, mount, kv); err != nil {
			return err
		}
		secret, err = c.Do(cmd.Context(), http.MethodPost, call.path, call.body, nil)
	}
	if err != nil {
		return fmt.Errorf("error authenticating: %w", err)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return errors.New("error authenticating: the response carries no token")
	}
	return a.finishLogin(p, secret, noStore)
}

// loginCall builds the login request of a method other than token and oidc.
func (a *app) loginCall(cmd *cobra.Command, method, mount string, kv map[string]any) (*loginCall, error) {
	base := "auth/" + mount + "/login"
	body := maps.Clone(kv)
	require := func(keys ...string) error {
		for _, k := range keys {
			if str(kv[k]) == "" {
				return usageError(cmd, "%s login needs %s=", method, k)
			}
		}
		return nil
	}
	switch method {
	case "userpass":
		if err := require("username"); err != nil {
			return nil, err
		}
		delete(body, "username")
		if str(kv["password"]) == "" {
			pw, err := readSecret(a.stdin, a.stderr, "Password (will be hidden): ")
			if err != nil {
				return nil, err
			}
			body["password"] = pw
		}
		return &loginCall{path: base + "/" + url.PathEscape(str(kv["username"])), body: body}, nil
	case "approle":
		return &loginCall{path: base, body: body}, require("role_id")
	case "jwt":
		return &loginCall{path: base, body: body}, require("jwt")
	case "kubernetes":
		if err := require("role"); err != nil {
			return nil, err
		}
		if str(kv["jwt"]) == "" {
			b, err := os.ReadFile(serviceAccountTokenPath)
			if err != nil {
				return nil, fmt.Errorf("no jwt= given and the service-account token is unreadable: %w", err)
			}
			body["jwt"] = strings.TrimSpace(string(b))
		}
		return &loginCall{path: base, body: body}, nil
	case "cert":
		return &loginCall{path: base, body: body}, nil
	}
	return nil, usageError(cmd, "unsupported auth method %q: want token, userpass, approle, jwt, kubernetes, cert or oidc", method)
}
