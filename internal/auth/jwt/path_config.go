package jwt

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

const configKey = "config"

// config is the method's configuration. It holds the OIDC client secret,
// so it prints as [REDACTED].
type config struct {
	OIDCDiscoveryURL     string   `json:"oidc_discovery_url"`
	OIDCDiscoveryCAPEM   string   `json:"oidc_discovery_ca_pem"`
	OIDCClientID         string   `json:"oidc_client_id"`
	OIDCClientSecret     string   `json:"oidc_client_secret"`
	OIDCResponseMode     string   `json:"oidc_response_mode"`
	OIDCResponseTypes    []string `json:"oidc_response_types"`
	JWKSURL              string   `json:"jwks_url"`
	JWKSCAPEM            string   `json:"jwks_ca_pem"`
	JWTValidationPubKeys []string `json:"jwt_validation_pubkeys"`
	BoundIssuer          string   `json:"bound_issuer"`
	DefaultRole          string   `json:"default_role"`
	JWTSupportedAlgs     []string `json:"jwt_supported_algs"`
	NamespaceInState     bool     `json:"namespace_in_state"`
}

func (c *config) String() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer.
func (c *config) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

func (b *Backend) configPath() *logical.Path {
	return &logical.Path{
		Pattern: `config`,
		Fields: map[string]*logical.Field{
			"oidc_discovery_url":     {Type: logical.TypeString},
			"oidc_discovery_ca_pem":  {Type: logical.TypeString},
			"oidc_client_id":         {Type: logical.TypeString},
			"oidc_client_secret":     {Type: logical.TypeString},
			"oidc_response_mode":     {Type: logical.TypeString},
			"oidc_response_types":    {Type: logical.TypeStringSlice},
			"jwks_url":               {Type: logical.TypeString},
			"jwks_ca_pem":            {Type: logical.TypeString},
			"jwt_validation_pubkeys": {Type: logical.TypeStringSlice},
			"bound_issuer":           {Type: logical.TypeString},
			"default_role":           {Type: logical.TypeString},
			"jwt_supported_algs":     {Type: logical.TypeStringSlice},
			"namespace_in_state":     {Type: logical.TypeBool},
			"provider_config":        {Type: logical.TypeMap},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleConfigRead,
			logical.UpdateOperation: b.handleConfigWrite,
		},
		Help: "Configure the JWT/OIDC auth method: key source, OIDC client and defaults.",
	}
}

func (b *Backend) handleConfigRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := loadConfig(ctx, req.Storage)
	if err != nil || c == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"oidc_discovery_url":     c.OIDCDiscoveryURL,
		"oidc_discovery_ca_pem":  c.OIDCDiscoveryCAPEM,
		"oidc_client_id":         c.OIDCClientID,
		"oidc_response_mode":     c.OIDCResponseMode,
		"oidc_response_types":    authutil.NonNil(c.OIDCResponseTypes),
		"jwks_url":               c.JWKSURL,
		"jwks_ca_pem":            c.JWKSCAPEM,
		"jwt_validation_pubkeys": authutil.NonNil(c.JWTValidationPubKeys),
		"bound_issuer":           c.BoundIssuer,
		"default_role":           c.DefaultRole,
		"jwt_supported_algs":     authutil.NonNil(c.JWTSupportedAlgs),
		"namespace_in_state":     c.NamespaceInState,
		"provider_config":        map[string]any{},
	}), nil
}

// handleConfigWrite replaces the configuration, as Vault does (fields not
// sent are reset), after checking it and reaching its key source.
func (b *Backend) handleConfigWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	c := &config{
		OIDCDiscoveryURL:     d.String("oidc_discovery_url"),
		OIDCDiscoveryCAPEM:   d.String("oidc_discovery_ca_pem"),
		OIDCClientID:         d.String("oidc_client_id"),
		OIDCClientSecret:     d.String("oidc_client_secret"),
		OIDCResponseMode:     d.String("oidc_response_mode"),
		OIDCResponseTypes:    d.Strings("oidc_response_types"),
		JWKSURL:              d.String("jwks_url"),
		JWKSCAPEM:            d.String("jwks_ca_pem"),
		JWTValidationPubKeys: d.Strings("jwt_validation_pubkeys"),
		BoundIssuer:          d.String("bound_issuer"),
		DefaultRole:          d.String("default_role"),
		JWTSupportedAlgs:     d.Strings("jwt_supported_algs"),
		NamespaceInState:     d.Bool("namespace_in_state"),
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	v, err := newVerifier(ctx, c)
	if err != nil {
		return nil, err
	}
	buf, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("jwt: encode config: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := req.Storage.Put(ctx, &storage.Entry{Key: configKey, Value: buf}); err != nil {
		return nil, fmt.Errorf("jwt: store config: %w", err)
	}
	b.replaceVerifier(v)
	resp := &logical.Response{NoContent: true}
	if len(d.Map("provider_config")) > 0 {
		resp.Warn("provider_config is not supported by Coffer and was ignored")
	}
	return resp, nil
}

// validate checks the settings that need no network.
func (c *config) validate() error {
	sources := 0
	for _, set := range []bool{c.OIDCDiscoveryURL != "", c.JWKSURL != "", len(c.JWTValidationPubKeys) > 0} {
		if set {
			sources++
		}
	}
	switch {
	case sources != 1:
		return logical.InvalidRequest("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set")
	case c.OIDCClientID != "" && c.OIDCDiscoveryURL == "":
		return logical.InvalidRequest("'oidc_discovery_url' must be set for OIDC")
	case c.OIDCClientSecret != "" && c.OIDCClientID == "":
		return logical.InvalidRequest("'oidc_client_id' must be set with 'oidc_client_secret'")
	case c.OIDCDiscoveryCAPEM != "" && c.OIDCDiscoveryURL == "":
		return logical.InvalidRequest("'oidc_discovery_ca_pem' needs 'oidc_discovery_url'")
	case c.JWKSCAPEM != "" && c.JWKSURL == "":
		return logical.InvalidRequest("'jwks_ca_pem' needs 'jwks_url'")
	}
	switch c.OIDCResponseMode {
	case "", "query", "form_post":
	default:
		return logical.InvalidRequest("invalid oidc_response_mode: must be 'query' or 'form_post'")
	}
	for _, t := range c.OIDCResponseTypes {
		if t != "code" && t != "id_token" {
			return logical.InvalidRequest("invalid oidc_response_types: must be 'code' or 'id_token'")
		}
	}
	if slices.Contains(c.OIDCResponseTypes, "id_token") && c.OIDCResponseMode != "form_post" {
		return logical.InvalidRequest("'form_post' oidc_response_mode is required for the 'id_token' response type")
	}
	for _, a := range c.JWTSupportedAlgs {
		if !slices.Contains(asymmetricAlgs, a) {
			return logical.InvalidRequest("invalid jwt_supported_algs: %q is not a supported asymmetric algorithm", a)
		}
	}
	if _, err := parsePublicKeys(c.JWTValidationPubKeys); err != nil {
		return err
	}
	return nil
}

// parsePublicKeys reads PEM public keys or certificates.
func parsePublicKeys(in []string) ([]crypto.PublicKey, error) {
	var out []crypto.PublicKey
	for i, s := range in {
		blk, _ := pem.Decode([]byte(s))
		if blk == nil {
			return nil, logical.InvalidRequest("jwt_validation_pubkeys[%d]: not a PEM block", i)
		}
		var pub crypto.PublicKey
		var err error
		if blk.Type == "CERTIFICATE" {
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(blk.Bytes); err == nil {
				pub = cert.PublicKey
			}
		} else {
			pub, err = x509.ParsePKIXPublicKey(blk.Bytes)
		}
		if err != nil {
			return nil, logical.InvalidRequest("jwt_validation_pubkeys[%d]: not a public key or certificate", i)
		}
		out = append(out, pub)
	}
	return out, nil
}

func loadConfig(ctx context.Context, s storage.Backend) (*config, error) {
	e, err := s.Get(ctx, configKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jwt: read config: %w", err)
	}
	var c config
	if err := json.Unmarshal(e.Value, &c); err != nil {
		return nil, ErrCorruptEntry
	}
	return &c, nil
}

// verifierFor returns the verifier of the stored config, building it on
// first use after an unseal or restart.
func (b *Backend) verifierFor(ctx context.Context, s storage.Backend) (*verifier, error) {
	if v, _ := b.cachedVerifier(); v != nil {
		return v, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, gen := b.cachedVerifier()
	if v != nil {
		return v, nil
	}
	c, err := loadConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, logical.InvalidRequest("could not load configuration")
	}
	if v, err = newVerifier(ctx, c); err != nil {
		return nil, err
	}
	b.cacheVerifier(v, gen)
	return v, nil
}

// cachedVerifier returns the cached verifier (nil if none) and the
// generation to pass to cacheVerifier.
func (b *Backend) cachedVerifier() (*verifier, uint64) {
	b.verMu.Lock()
	defer b.verMu.Unlock()
	return b.ver, b.verGen
}

// cacheVerifier caches v unless the verifier was replaced or dropped since
// gen was read: a verifier built from a config read before an Invalidate
// is used once and not kept.
func (b *Backend) cacheVerifier(v *verifier, gen uint64) {
	b.verMu.Lock()
	defer b.verMu.Unlock()
	if b.verGen == gen {
		b.ver = v
	}
}

// replaceVerifier installs v (nil drops the cached one).
func (b *Backend) replaceVerifier(v *verifier) {
	b.verMu.Lock()
	defer b.verMu.Unlock()
	b.verGen++
	b.ver = v
}
