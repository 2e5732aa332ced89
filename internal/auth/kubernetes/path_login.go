package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// Alias and token metadata keys, as Vault sets them.
const (
	metaUID        = "service_account_uid"
	metaName       = "service_account_name"
	metaNamespace  = "service_account_namespace"
	metaSecretName = "service_account_secret_name"
)

// reservedMetadata are the alias metadata keys annotations may not set.
var reservedMetadata = map[string]bool{metaUID: true, metaName: true, metaNamespace: true, metaSecretName: true}

func (b *Backend) loginPath() *logical.Path {
	return &logical.Path{
		Pattern: `login`,
		Fields: map[string]*logical.Field{
			"role": {Type: logical.TypeString, Description: "role to log in with"},
			"jwt":  {Type: logical.TypeString, Description: "the service-account token"},
		},
		Operations:      map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLogin},
		Unauthenticated: true,
		LoginIdentifier: "role",
		Help:            "Log in with a Kubernetes service-account token.",
	}
}

// handleLogin checks the token against the role and the API server and
// returns the Auth the core turns into a token.
func (b *Backend) handleLogin(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	roleName, jwtStr := d.String("role"), d.String("jwt")
	switch {
	case roleName == "":
		return nil, logical.InvalidRequest("missing role")
	case jwtStr == "":
		return nil, logical.InvalidRequest("missing jwt")
	}
	r, err := loadRole(ctx, req.Storage, roleName)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, logical.InvalidRequest("invalid role name %q", roleName)
	}
	if !tokenutil.ContainsAddr(r.BoundCIDRs, req.RemoteAddr) {
		return nil, b.refuse(roleName, req, errors.New("client address outside token_bound_cidrs"))
	}
	c, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, logical.InvalidRequest("the kubernetes auth method is not configured: write its config first")
	}
	sa, err := b.verify(ctx, c, r, jwtStr)
	if err != nil {
		if errors.Is(err, ErrReview) {
			// A broken reviewer is the operator's to fix: say so in the log.
			b.logger.Warn("kubernetes: token review failed", "role", roleName, "err", err)
		}
		return nil, b.refuse(roleName, req, err)
	}
	meta := map[string]string{}
	if c.UseAnnotationsAsAliasMetadata {
		if meta, err = b.aliasAnnotations(ctx, c, jwtStr, sa); err != nil {
			return nil, err
		}
	}
	return &logical.Response{Auth: r.auth(roleName, sa, meta)}, nil
}

// refuse logs why a login failed and returns the plain permission error.
func (b *Backend) refuse(roleName string, req *logical.Request, reason error) error {
	b.logger.Debug("kubernetes: login refused", "role", roleName, "remote", req.RemoteAddr, "reason", reason)
	return logical.ErrPermissionDenied
}

// verify checks the token's claims against the role, then has the API
// server review it and checks the review names the same service account.
func (b *Backend) verify(ctx context.Context, c *config, r *role, jwtStr string) (*saClaims, error) {
	keys, err := parsePublicKeys(c.PEMKeys)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: pem_keys: %w", err)
	}
	sa, err := parseToken(jwtStr, keys, time.Now())
	if err != nil {
		return nil, err
	}
	if r.Audience != "" && !slices.Contains(sa.Audience, r.Audience) {
		return nil, fmt.Errorf("%w: audience not allowed by the role", ErrBadToken)
	}
	kc, err := b.kubeClient(c, jwtStr)
	if err != nil {
		return nil, err
	}
	if err := r.checkServiceAccount(ctx, kc, sa); err != nil {
		return nil, err
	}
	audiences := sa.Audience
	if r.Audience != "" {
		audiences = []string{r.Audience}
	}
	res, err := kc.review(ctx, jwtStr, audiences)
	if err != nil {
		return nil, err
	}
	switch {
	case res.Namespace != sa.Namespace || res.Name != sa.Name || res.UID != sa.UID:
		return nil, fmt.Errorf("%w: review names another service account than the claims", ErrNotAuthenticated)
	case r.Audience != "" && !slices.Contains(res.Audiences, r.Audience):
		return nil, fmt.Errorf("%w: review did not confirm the audience", ErrNotAuthenticated)
	}
	return sa, nil
}

// checkServiceAccount checks the claimed service account against the
// role's bound names, then its namespace against the bound namespaces or,
// failing those, the namespace selector (which reads the namespace's labels
// with the reviewer token).
func (r *role) checkServiceAccount(ctx context.Context, kc *kubeClient, sa *saClaims) error {
	if !matchAny(r.Names, sa.Name) {
		return fmt.Errorf("%w: service account name %q not allowed by the role", ErrBadToken, sa.Name)
	}
	if matchAny(r.Namespaces, sa.Namespace) {
		return nil
	}
	if r.NamespaceSelector != "" {
		sel, err := parseSelector(r.NamespaceSelector)
		if err != nil {
			return fmt.Errorf("kubernetes: stored namespace selector: %w", err)
		}
		labels, err := kc.namespaceLabels(ctx, sa.Namespace)
		if err != nil {
			return err
		}
		if sel.matches(labels) {
			return nil
		}
	}
	return fmt.Errorf("%w: namespace %q not allowed by the role", ErrBadToken, sa.Namespace)
}

// aliasAnnotations reads the service account's alias-metadata annotations.
func (b *Backend) aliasAnnotations(ctx context.Context, c *config, jwtStr string, sa *saClaims) (map[string]string, error) {
	kc, err := b.kubeClient(c, jwtStr)
	if err != nil {
		return nil, err
	}
	meta, err := kc.annotations(ctx, sa.Namespace, sa.Name)
	if errors.Is(err, errReservedAnnotation) {
		return nil, logical.InvalidRequest("%v", err)
	}
	if errors.Is(err, errNoReviewer) {
		// The config asks for annotations but gives no token to read them
		// with (no token_reviewer_jwt, no in-pod token): the operator's to
		// fix, and the client is told why its login cannot succeed.
		b.logger.Warn("kubernetes: use_annotations_as_alias_metadata is on but there is no reviewer token to read service accounts with", "namespace", sa.Namespace, "service_account", sa.Name)
		return nil, logical.InvalidRequest("this kubernetes auth method reads service account annotations (use_annotations_as_alias_metadata) but has no token_reviewer_jwt to read them with")
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes: read service account annotations: %w", err)
	}
	return meta, nil
}

// auth builds the login's Auth: the role's token settings, the alias named
// by alias_name_source, and Vault's metadata.
func (r *role) auth(roleName string, sa *saClaims, aliasMeta map[string]string) *logical.Auth {
	aliasMeta[metaUID] = sa.UID
	aliasMeta[metaName] = sa.Name
	aliasMeta[metaNamespace] = sa.Namespace
	aliasMeta[metaSecretName] = sa.SecretName
	aliasName := sa.UID
	if r.AliasNameSource == AliasNameSourceName {
		aliasName = sa.Namespace + "/" + sa.Name
	}
	a := r.Params.Auth()
	a.Alias = &logical.Alias{Name: aliasName, Metadata: aliasMeta}
	a.Metadata = map[string]string{
		metaUID: sa.UID, metaName: sa.Name, metaNamespace: sa.Namespace,
		metaSecretName: sa.SecretName, "role": roleName,
	}
	a.DisplayName = sa.Namespace + "-" + sa.Name
	return a
}

// RenewAuth implements logical.AuthRenewer: before a token is renewed,
// the role must still exist, with the policies the token has (the service account is not reviewed again).
func (b *Backend) RenewAuth(ctx context.Context, req *logical.Request, token *logical.Auth) (*logical.Auth, error) {
	return tokenutil.RenewLogin(token, "role", "role", func(name string) (*tokenutil.Params, error) {
		r, err := loadRole(ctx, req.Storage, name)
		if r == nil || err != nil {
			return nil, err
		}
		return &r.Params, nil
	})
}
