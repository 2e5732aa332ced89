package cert

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"maps"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
)

func (b *Backend) loginPath() *logical.Path {
	return &logical.Path{
		Pattern: `login`,
		Fields: map[string]*logical.Field{
			"name": {Type: logical.TypeString, Description: "try only this trusted certificate entry"},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.UpdateOperation: b.handleLogin,
		},
		Unauthenticated: true,
		Help:            "Log in with the TLS client certificate of the connection.",
	}
}

// handleLogin verifies the connection's client certificate and returns the
// Auth of the first trusted entry that accepts it. Every refusal is
// ErrInvalidCertificate, whatever the reason, so a client learns nothing
// about the trust configuration.
func (b *Backend) handleLogin(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if req.Connection == nil || len(req.Connection.PeerCertificates) == 0 {
		return nil, ErrInvalidCertificate
	}
	name := strings.ToLower(d.String("name"))
	if name != "" && checkName(name) != nil {
		return nil, ErrInvalidCertificate
	}
	presented := req.Connection.PeerCertificates
	e, err := b.match(ctx, req.Storage, presented, name)
	if err != nil {
		return nil, err
	}
	if e == nil {
		b.logger.Debug("cert: login refused", "mount", req.MountPoint, "remote", req.RemoteAddr)
		return nil, ErrInvalidCertificate
	}
	if !tokenutil.ContainsAddr(e.BoundCIDRs, req.RemoteAddr) {
		return nil, logical.ErrPermissionDenied
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Auth: loginAuth(e, presented[0], cfg)}, nil
}

// loginAuth builds the Auth of a login: the entry's token settings, its
// display name, and Vault's metadata about the certificate. The identity
// alias is the certificate's common name (its serial number when it has
// none); it carries the metadata when enable_identity_alias_metadata is set.
func loginAuth(e *certEntry, leaf *x509.Certificate, cfg config) *logical.Auth {
	meta := map[string]string{}
	maps.Copy(meta, metadataExtensions(leaf, e.AllowedMetadataExtensions))
	meta["cert_name"] = e.Name
	meta["common_name"] = leaf.Subject.CommonName
	meta["serial_number"] = leaf.SerialNumber.String()
	meta["subject_key_id"] = hexColons(leaf.SubjectKeyId)
	meta["authority_key_id"] = hexColons(leaf.AuthorityKeyId)

	auth := e.Params.Auth()
	auth.DisplayName = e.DisplayName
	auth.Metadata = meta
	aliasName := leaf.Subject.CommonName
	if aliasName == "" {
		aliasName = leaf.SerialNumber.String()
	}
	auth.Alias = &logical.Alias{Name: aliasName}
	if cfg.EnableIdentityAliasMetadata {
		auth.Alias.Metadata = maps.Clone(meta)
	}
	return auth
}

// hexColons formats b as lowercase hex bytes joined by colons ("0a:1b"),
// as Vault shows key identifiers.
func hexColons(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, ":")
}

// RenewAuth implements logical.AuthRenewer: before a token is renewed,
// the certificate entry must still exist, with the policies the token has,
// and, unless the method's config sets disable_binding, the request that
// renews must present the login's certificate again (checkBinding).
func (b *Backend) RenewAuth(ctx context.Context, req *logical.Request, token *logical.Auth) (*logical.Auth, error) {
	a, err := tokenutil.RenewLogin(token, "certificate entry", "cert_name", func(name string) (*tokenutil.Params, error) {
		e, err := loadEntry(ctx, req.Storage, name)
		if e == nil || err != nil {
			return nil, err
		}
		return &e.Params, nil
	})
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if !cfg.DisableBinding {
		if err := b.checkBinding(ctx, req, token); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// checkBinding accepts a renewal only from a connection whose client
// certificate the login's entry still trusts (chain, constraints,
// revocation, as at login) and that is the login's certificate: the same
// key (subject key id) or the same certificate (serial number and
// authority key id). Vault accepts any certificate with the same
// authority key id; a certificate from the same CA for another key is
// refused here.
func (b *Backend) checkBinding(ctx context.Context, req *logical.Request, token *logical.Auth) error {
	if req.Connection == nil || len(req.Connection.PeerCertificates) == 0 {
		return logical.Errorf(logical.KindPermissionDenied, "renewing a token from a certificate login needs the same client certificate on the connection (the method's config has disable_binding off)")
	}
	name := token.Metadata["cert_name"]
	if name == "" {
		return logical.Errorf(logical.KindPermissionDenied, "the token's login names no certificate entry; log in again")
	}
	presented := req.Connection.PeerCertificates
	e, err := b.match(ctx, req.Storage, presented, name)
	if err != nil {
		return err
	}
	if e == nil {
		return logical.Errorf(logical.KindPermissionDenied, "the client certificate presented is not trusted by the certificate entry %q; log in again", name)
	}
	leaf := presented[0]
	sameKey := len(leaf.SubjectKeyId) > 0 && hexColons(leaf.SubjectKeyId) == token.Metadata["subject_key_id"]
	sameCert := leaf.SerialNumber.String() == token.Metadata["serial_number"] &&
		hexColons(leaf.AuthorityKeyId) == token.Metadata["authority_key_id"]
	if !sameKey && !sameCert {
		return logical.Errorf(logical.KindPermissionDenied, "the client certificate presented is not the one this token logged in with")
	}
	return nil
}
