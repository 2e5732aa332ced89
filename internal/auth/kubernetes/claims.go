package kubernetes

import (
	"crypto"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// clockLeeway is the clock skew allowed on exp, nbf and iat.
const clockLeeway = time.Minute

// signingAlgs are the algorithms Kubernetes signs service-account tokens
// with; anything else (including "none" and HMAC) is refused.
var signingAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.PS256, jose.PS384, jose.PS512,
}

// saClaims is what a service-account token says about its service account.
type saClaims struct {
	Namespace  string
	Name       string
	UID        string
	SecretName string
	Audience   []string
}

// k8sClaims are the claims of both token shapes: the flat claims of legacy
// Secret-based tokens and the nested "kubernetes.io" claim of projected
// (TokenRequest) tokens.
type k8sClaims struct {
	LegacyNamespace  string `json:"kubernetes.io/serviceaccount/namespace"`
	LegacyName       string `json:"kubernetes.io/serviceaccount/service-account.name"`
	LegacyUID        string `json:"kubernetes.io/serviceaccount/service-account.uid"`
	LegacySecretName string `json:"kubernetes.io/serviceaccount/secret.name"`
	Projected        *struct {
		Namespace      string     `json:"namespace"`
		ServiceAccount *objectRef `json:"serviceaccount"`
	} `json:"kubernetes.io"`
}

type objectRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// parseToken reads a service-account JWT. With keys, the signature must
// verify under one of them; without, the claims are read unverified and
// the TokenReview that follows is what vouches for the token. Either way
// exp, nbf and iat are checked. Errors wrap ErrBadToken and never quote the
// token.
func parseToken(raw string, keys []crypto.PublicKey, now time.Time) (*saClaims, error) {
	tok, err := jwt.ParseSigned(raw, signingAlgs)
	if err != nil {
		return nil, fmt.Errorf("%w: not a signed JWT", ErrBadToken)
	}
	var std jwt.Claims
	var k k8sClaims
	if len(keys) == 0 {
		if err := tok.UnsafeClaimsWithoutVerification(&std, &k); err != nil {
			return nil, fmt.Errorf("%w: claims do not decode", ErrBadToken)
		}
	} else if !verifyAny(tok, keys, &std, &k) {
		return nil, fmt.Errorf("%w: signature does not verify", ErrBadToken)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: now}, clockLeeway); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	c := &saClaims{
		Namespace: k.LegacyNamespace, Name: k.LegacyName, UID: k.LegacyUID,
		SecretName: k.LegacySecretName, Audience: std.Audience,
	}
	if p := k.Projected; p != nil {
		c.Namespace, c.Name, c.UID = p.Namespace, "", ""
		if p.ServiceAccount != nil {
			c.Name, c.UID = p.ServiceAccount.Name, p.ServiceAccount.UID
		}
	}
	if c.Namespace == "" || c.Name == "" || c.UID == "" {
		return nil, fmt.Errorf("%w: no service-account namespace, name or uid claim", ErrBadToken)
	}
	return c, nil
}

// verifyAny decodes the claims of tok into dst with the first key whose
// signature check passes.
func verifyAny(tok *jwt.JSONWebToken, keys []crypto.PublicKey, dst ...any) bool {
	for _, key := range keys {
		if tok.Claims(key, dst...) == nil {
			return true
		}
	}
	return false
}
