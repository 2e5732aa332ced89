package kubernetes

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

const configKey = "config"

// config is the mount's connection to the Kubernetes API. It holds the
// reviewer token, so it prints as [REDACTED].
type config struct {
	Host                          string   `json:"kubernetes_host"`
	CACert                        string   `json:"kubernetes_ca_cert"`
	TokenReviewerJWT              string   `json:"token_reviewer_jwt"`
	PEMKeys                       []string `json:"pem_keys"`
	Issuer                        string   `json:"issuer"`
	DisableISSValidation          bool     `json:"disable_iss_validation"`
	DisableLocalCAJWT             bool     `json:"disable_local_ca_jwt"`
	UseAnnotationsAsAliasMetadata bool     `json:"use_annotations_as_alias_metadata"`
}

func (c *config) String() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer.
func (c *config) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

func (b *Backend) configPath() *logical.Path {
	return &logical.Path{
		Pattern: `config`,
		Fields: map[string]*logical.Field{
			"kubernetes_host":                   {Type: logical.TypeString, Description: "URL, host or host:port of the Kubernetes API server"},
			"kubernetes_ca_cert":                {Type: logical.TypeString, Description: "PEM CA certificate of the API server"},
			"token_reviewer_jwt":                {Type: logical.TypeString, Description: "bearer token for the TokenReview API; never read back"},
			"pem_keys":                          {Type: logical.TypeStringSlice, Description: "PEM public keys or certificates that verify service-account tokens"},
			"issuer":                            {Type: logical.TypeString, Description: "deprecated and ignored, as in Vault"},
			"disable_iss_validation":            {Type: logical.TypeBool, Default: true, Description: "deprecated and ignored, as in Vault"},
			"disable_local_ca_jwt":              {Type: logical.TypeBool, Description: "do not fall back to the in-pod CA and token"},
			"use_annotations_as_alias_metadata": {Type: logical.TypeBool, Description: "add the service account's vault.hashicorp.com/alias-metadata-* annotations to the alias"},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleConfigRead,
			logical.UpdateOperation: b.handleConfigWrite,
		},
		Help: "Configure how to reach and trust the Kubernetes API server.",
	}
}

func (b *Backend) handleConfigRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := loadConfig(ctx, req.Storage)
	if err != nil || c == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"kubernetes_host":                   c.Host,
		"kubernetes_ca_cert":                c.CACert,
		"pem_keys":                          authutil.NonNil(c.PEMKeys),
		"issuer":                            c.Issuer,
		"disable_iss_validation":            c.DisableISSValidation,
		"disable_local_ca_jwt":              c.DisableLocalCAJWT,
		"use_annotations_as_alias_metadata": c.UseAnnotationsAsAliasMetadata,
		"token_reviewer_jwt_set":            c.TokenReviewerJWT != "",
	}), nil
}

// handleConfigWrite replaces the whole config, as Vault does.
func (b *Backend) handleConfigWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	c := &config{
		Host:                          strings.TrimSpace(d.String("kubernetes_host")),
		CACert:                        d.String("kubernetes_ca_cert"),
		TokenReviewerJWT:              strings.TrimSpace(d.String("token_reviewer_jwt")),
		PEMKeys:                       d.Strings("pem_keys"),
		Issuer:                        d.String("issuer"),
		DisableISSValidation:          d.Bool("disable_iss_validation"),
		DisableLocalCAJWT:             d.Bool("disable_local_ca_jwt"),
		UseAnnotationsAsAliasMetadata: d.Bool("use_annotations_as_alias_metadata"),
	}
	if c.Host == "" {
		return nil, logical.InvalidRequest("no host provided")
	}
	if _, err := apiBaseURL(c.Host); err != nil {
		return nil, logical.InvalidRequest("kubernetes_host: %v", err)
	}
	if c.CACert != "" {
		if _, err := certPool(c.CACert); err != nil {
			return nil, logical.InvalidRequest("kubernetes_ca_cert: %v", err)
		}
	}
	if _, err := parsePublicKeys(c.PEMKeys); err != nil {
		return nil, logical.InvalidRequest("pem_keys: %v", err)
	}
	if c.UseAnnotationsAsAliasMetadata && c.TokenReviewerJWT == "" && c.DisableLocalCAJWT {
		return nil, logical.InvalidRequest("use_annotations_as_alias_metadata needs token_reviewer_jwt to read service accounts: with disable_local_ca_jwt there is no in-pod token to fall back to")
	}
	if err := putJSON(ctx, req.Storage, configKey, c); err != nil {
		return nil, err
	}
	return nil, nil
}

// apiBaseURL turns kubernetes_host (a URL, host or host:port) into the API
// server's base URL, https unless the URL says http.
func apiBaseURL(host string) (*url.URL, error) {
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, errors.New("not a host, host:port or URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want a host with an optional port and path")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func certPool(pemCerts string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pemCerts)) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

// parsePublicKeys parses PEM public keys or certificates (whose public key
// is taken), as Vault's pem_keys: RSA or ECDSA, the key types Kubernetes
// signs service-account tokens with.
func parsePublicKeys(pems []string) ([]crypto.PublicKey, error) {
	keys := make([]crypto.PublicKey, 0, len(pems))
	for i, p := range pems {
		block, _ := pem.Decode([]byte(p))
		if block == nil {
			return nil, fmt.Errorf("entry %d is not PEM", i)
		}
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			cert, cerr := x509.ParseCertificate(block.Bytes)
			if cerr != nil {
				return nil, fmt.Errorf("entry %d is neither a public key nor a certificate", i)
			}
			key = cert.PublicKey
		}
		switch key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			return nil, fmt.Errorf("entry %d: unsupported key type %T", i, key)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func loadConfig(ctx context.Context, s storage.Backend) (*config, error) {
	var c config
	ok, err := getJSON(ctx, s, configKey, &c)
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}

// getJSON decodes the entry at key into v; ok is false when the key is
// absent.
func getJSON(ctx context.Context, s storage.Backend, key string, v any) (bool, error) {
	return authutil.GetJSON(ctx, s, "kubernetes", key, v, ErrCorruptEntry)
}

// putJSON encodes v and stores it at key.
func putJSON(ctx context.Context, s storage.Backend, key string, v any) error {
	return authutil.PutJSON(ctx, s, "kubernetes", key, v)
}
