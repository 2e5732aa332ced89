package cli

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

func (a *app) loginCommand() *cobra.Command {
	var noStore bool
	var method, mount string
	cmd := &cobra.Command{
		Use:   "login [TOKEN | K=V...]",
		Short: "Authenticate with a token or an auth method and store the token",
		Long: `Authenticate to the server and, unless -no-store is given, store the token in
~/.coffer-token (mode 0600), where later commands find it when COFFER_TOKEN and
VAULT_TOKEN are unset.

With the default token method, the token is checked with auth/token/lookup-self.
Without TOKEN, it is read without echo from the terminal, or as one line from
stdin, so that it stays out of the shell history.

Other methods take K=V arguments (a value of @file reads the file):
  userpass    username=  password= (prompted without echo when missing)
  approle     role_id=  secret_id=
  jwt         role=  jwt=
  kubernetes  role=  jwt= (default: the pod's service-account token)
  cert        name= (optional); uses -client-cert and -client-key
  oidc        role=  listenaddress=127.0.0.1  port=8250  callbackmethod=http
              callbackhost=127.0.0.1  callbackport=<port>  skip_browser=false
-path selects the auth mount (default: the method's name). Progress and
instructions go to stderr.`,
		Example: `  coffer login
  coffer login -no-store hvs.CAESI...
  echo "$TOKEN" | coffer login -
  coffer login -method=userpass username=alice
  coffer login -method=jwt role=ci jwt=@token.jwt
  coffer login -method=oidc -path=sso role=engineers`,
		Args: cobra.ArbitraryArgs,
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if method == "token" {
				if len(args) > 1 {
					return usageError(cmd, "too many arguments (expected 0 to 1, got %d)", len(args))
				}
				return a.login(cmd, args, noStore)
			}
			return a.methodLogin(cmd, method, mount, args, noStore)
		}),
	}
	cmd.Flags().BoolVar(&noStore, "no-store", false, "do not store the token in ~/.coffer-token")
	cmd.Flags().StringVar(&method, "method", "token", "auth method: token, userpass, approle, jwt, kubernetes, cert or oidc")
	cmd.Flags().StringVar(&mount, "path", "", "mount path of the auth method (default: the method's name)")
	return a.addAPIFlags(cmd)
}

// login checks a token with lookup-self, stores it unless noStore, and
// prints what Vault's token login prints.
func (a *app) login(cmd *cobra.Command, args []string, noStore bool) error {
	p, err := a.printer(cmd)
	if err != nil {
		return err
	}
	token, err := a.argOrSecret(args, "Token (will be hidden): ")
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	c = c.WithToken(token)
	s, err := c.Do(cmd.Context(), http.MethodGet, "auth/token/lookup-self", nil, nil)
	if err != nil {
		return fmt.Errorf("checking token: %w", err)
	}
	if s == nil || s.Data == nil {
		return errors.New("checking token: empty response from auth/token/lookup-self")
	}
	return a.finishLogin(p, tokenLoginSecret(token, s), noStore)
}

// finishLogin stores the login's token unless noStore and prints the auth
// block as Vault's login does.
func (a *app) finishLogin(p *printer, secret *apiclient.Secret, noStore bool) error {
	if !noStore {
		path, err := apiclient.TokenFilePath(a.getenv)
		if err != nil {
			return err
		}
		if err := apiclient.WriteTokenFile(path, secret.Auth.ClientToken); err != nil {
			return err
		}
	}
	if p.format == "table" && p.field == "" {
		a.printLoginBanner(noStore)
	}
	return p.secret(secret)
}

func (a *app) printLoginBanner(noStore bool) {
	if noStore {
		fmt.Fprintln(a.stdout, `Success! You are now authenticated. The -no-store flag was given, so the token
was not stored. Set COFFER_TOKEN to use it in later commands.`)
	} else {
		fmt.Fprintln(a.stdout, `Success! You are now authenticated. The token information displayed below
is already stored in ~/.coffer-token. You do NOT need to run "coffer login"
again. Future requests will automatically use this token.`)
	}
	fmt.Fprintln(a.stdout)
}

// tokenLoginSecret turns a lookup-self answer into the auth block Vault's
// token login prints.
func tokenLoginSecret(token string, s *apiclient.Secret) *apiclient.Secret {
	d := s.Data
	policies := anyStrings(d["policies"])
	meta := map[string]string{}
	if m, ok := d["meta"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = formatValue(v)
		}
	}
	return &apiclient.Secret{
		RequestID: s.RequestID,
		Auth: &apiclient.SecretAuth{
			ClientToken:      token,
			Accessor:         str(d["accessor"]),
			Policies:         policies,
			TokenPolicies:    policies,
			IdentityPolicies: anyStrings(d["identity_policies"]),
			Metadata:         meta,
			Orphan:           d["orphan"] == true,
			EntityID:         str(d["entity_id"]),
			LeaseDuration:    intValue(d["ttl"]),
			Renewable:        d["renewable"] == true,
			TokenType:        str(d["type"]),
		},
	}
}
