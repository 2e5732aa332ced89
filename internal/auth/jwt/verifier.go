package jwt

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/cofferdev/coffer/internal/logical"
)

// maxTokenBytes bounds a JWT handed to login or returned by a provider.
const maxTokenBytes = 128 << 10

// httpTimeout bounds every request to a provider (discovery, JWKS, token).
const httpTimeout = 30 * time.Second

// asymmetricAlgs are the signing algorithms a config may allow. Symmetric
// (HS*) and "none" are never accepted.
var asymmetricAlgs = []string{
	string(jose.RS256), string(jose.RS384), string(jose.RS512),
	string(jose.PS256), string(jose.PS384), string(jose.PS512),
	string(jose.ES256), string(jose.ES384), string(jose.ES512),
	string(jose.EdDSA),
}

// verifier checks a token's algorithm and signature against the configured
// key source and returns its claims. Built from one config; replaced when
// the config changes.
type verifier struct {
	cfg      *config
	keys     oidc.KeySet
	provider *oidc.Provider // set for oidc_discovery_url
	client   *http.Client   // for the provider's token endpoint
	// issuer is what "iss" must equal: the discovered issuer, or
	// bound_issuer; "" means any.
	issuer string
}

// newVerifier reaches the config's key source: it runs OIDC discovery or
// fetches the JWKS once, so a bad URL or CA fails the config write.
func newVerifier(ctx context.Context, c *config) (*verifier, error) {
	v := &verifier{cfg: c, issuer: c.BoundIssuer}
	switch {
	case len(c.JWTValidationPubKeys) > 0:
		pubs, err := parsePublicKeys(c.JWTValidationPubKeys)
		if err != nil {
			return nil, err
		}
		v.keys = &oidc.StaticKeySet{PublicKeys: pubs}
	case c.JWKSURL != "":
		client, err := httpClient(c.JWKSCAPEM, "jwks_ca_pem")
		if err != nil {
			return nil, err
		}
		if err := checkJWKS(ctx, client, c.JWKSURL); err != nil {
			return nil, err
		}
		v.client = client
		v.keys = newRemoteKeys(c.JWKSURL, client)
	default:
		client, err := httpClient(c.OIDCDiscoveryCAPEM, "oidc_discovery_ca_pem")
		if err != nil {
			return nil, err
		}
		dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, client), httpTimeout)
		defer cancel()
		p, err := oidc.NewProvider(dctx, c.OIDCDiscoveryURL)
		if err != nil {
			return nil, logical.InvalidRequest("error checking oidc discovery URL: %v", err)
		}
		var claims struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := p.Claims(&claims); err != nil {
			return nil, logical.InvalidRequest("error checking oidc discovery URL: %v", err)
		}
		if c.BoundIssuer != "" && c.BoundIssuer != claims.Issuer {
			return nil, logical.InvalidRequest("bound_issuer does not match the discovered issuer")
		}
		v.provider, v.client, v.issuer = p, client, claims.Issuer
		v.keys = newRemoteKeys(claims.JWKSURI, client)
	}
	return v, nil
}

// httpClient returns a client trusting caPEM (or the system roots when
// empty). field names the setting in errors.
func httpClient(caPEM, field string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, logical.InvalidRequest("could not parse %s", field)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr, Timeout: httpTimeout}, nil
}

// checkJWKS fetches the key set once and checks it parses.
func checkJWKS(ctx context.Context, client *http.Client, url string) error {
	if _, err := fetchJWKS(ctx, client, url); err != nil {
		return logical.InvalidRequest("error checking jwks_url: %v", err)
	}
	return nil
}

// allowedAlgs returns the algorithms a token may be signed with: the
// configured list, else RS256 for OIDC ID tokens and every asymmetric
// algorithm for JWT logins, as Vault.
func (v *verifier) allowedAlgs(oidcFlow bool) []string {
	switch {
	case len(v.cfg.JWTSupportedAlgs) > 0:
		return v.cfg.JWTSupportedAlgs
	case oidcFlow:
		return []string{string(jose.RS256)}
	}
	return asymmetricAlgs
}

// verify checks the token's shape, algorithm and signature and returns
// its claims. Messages never quote the token.
func (v *verifier) verify(ctx context.Context, raw string, oidcFlow bool) (map[string]any, error) {
	if len(raw) > maxTokenBytes {
		return nil, logical.InvalidRequest("error validating token: token is too large")
	}
	alg, err := headerAlg(raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.allowedAlgs(oidcFlow), alg) {
		return nil, logical.InvalidRequest("error validating token: signing algorithm is not allowed")
	}
	payload, err := v.keys.VerifySignature(ctx, raw)
	if err != nil {
		return nil, &logical.Error{Kind: logical.KindInvalidRequest,
			Msg: "error validating token: signature does not verify with any known key", Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, logical.InvalidRequest("error validating token: claims are not a JSON object")
	}
	return claims, nil
}

// headerAlg returns the "alg" of a compact JWS, rejecting other shapes.
func headerAlg(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", logical.InvalidRequest("error validating token: token is not a compact JWS")
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", logical.InvalidRequest("error validating token: malformed header")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return "", logical.InvalidRequest("error validating token: malformed header")
	}
	if h.Alg == "" || strings.EqualFold(h.Alg, "none") {
		return "", logical.InvalidRequest("error validating token: unsigned tokens are not allowed")
	}
	return h.Alg, nil
}

// idTokenErr wraps a provider exchange failure without its body.
func idTokenErr(what string, err error) error {
	return &logical.Error{Kind: logical.KindInvalidRequest, Msg: fmt.Sprintf("error exchanging oidc code: %s", what), Err: err}
}
