package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrUnsupportedAlg is returned for an algorithm the provider cannot sign with.
var ErrUnsupportedAlg = errors.New("oidctest: unsupported algorithm")

// AlgNone mints an unsigned token ("alg": "none") with an empty signature.
const AlgNone jose.SignatureAlgorithm = "none"

// signingKey is one key pair of the provider.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k *signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

func newSigningKey(alg jose.SignatureAlgorithm) (*signingKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("oidctest: generate %s key: %w", alg, err)
	}
	return &signingKey{kid: randomString(8), alg: alg, priv: priv}, nil
}

// MintOptions choose how Mint signs.
type MintOptions struct {
	// Alg picks the published key of that algorithm, adding one to the JWKS
	// if there is none. Empty means the default (first) key. AlgNone mints
	// an unsigned token.
	Alg jose.SignatureAlgorithm
	// KID, when set, is written into the header instead of the signing
	// key's id (to test unknown key ids).
	KID string
	// Unpublished signs with a fresh key that never appears in the JWKS.
	Unpublished bool
	// HMACSecret signs with HS256 under this secret instead of a key pair.
	HMACSecret []byte
}

// Mint signs claims with the provider's default key.
func (p *Provider) Mint(claims map[string]any) (string, error) {
	return p.MintWith(claims, MintOptions{})
}

// MintWith signs claims as opts say.
func (p *Provider) MintWith(claims map[string]any, opts MintOptions) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oidctest: encode claims: %w", err)
	}
	if opts.Alg == AlgNone {
		return mintNone(payload, opts.KID), nil
	}
	key, err := p.keyFor(opts)
	if err != nil {
		return "", err
	}
	kid := key.kid
	if opts.KID != "" {
		kid = opts.KID
	}
	var sk jose.SigningKey
	if opts.HMACSecret != nil {
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: opts.HMACSecret}
	} else {
		sk = jose.SigningKey{Algorithm: key.alg, Key: key.priv}
	}
	signer, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return "", fmt.Errorf("oidctest: signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oidctest: sign: %w", err)
	}
	return obj.CompactSerialize()
}

func mintNone(payload []byte, kid string) string {
	hdr := map[string]string{"alg": "none", "typ": "JWT"}
	if kid != "" {
		hdr["kid"] = kid
	}
	h, _ := json.Marshal(hdr)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(payload) + "."
}

// keyFor returns the key MintWith signs with.
func (p *Provider) keyFor(opts MintOptions) (*signingKey, error) {
	if opts.Unpublished || opts.HMACSecret != nil {
		alg := opts.Alg
		if alg == "" {
			alg = p.opts.Alg
		}
		return newSigningKey(alg)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if opts.Alg == "" {
		return p.keys[0], nil
	}
	for _, k := range p.keys {
		if k.alg == opts.Alg {
			return k, nil
		}
	}
	k, err := newSigningKey(opts.Alg)
	if err != nil {
		return nil, err
	}
	p.keys = append(p.keys, k)
	return k, nil
}

// RotateKey replaces every published key with one new key of the default
// algorithm and returns its key id: tokens signed before no longer verify.
func (p *Provider) RotateKey() (string, error) {
	k, err := newSigningKey(p.opts.Alg)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = []*signingKey{k}
	return k.kid, nil
}

// KeyID is the default signing key's id.
func (p *Provider) KeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[0].kid
}

// PublicKeyPEM is the default signing key's public key as a PKIX PEM block,
// for jwt_validation_pubkeys.
func (p *Provider) PublicKeyPEM() (string, error) {
	p.mu.Lock()
	pub := p.keys[0].priv.Public()
	p.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("oidctest: marshal public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// Claims returns the standard claims of a token from this provider for
// subject sub and audiences aud, valid from now for TokenTTL, merged with
// extra (which wins).
func (p *Provider) Claims(sub string, aud []string, extra map[string]any) map[string]any {
	now := p.opts.Now()
	c := map[string]any{
		"iss": p.Issuer(),
		"sub": sub,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(p.opts.TokenTTL).Unix(),
	}
	if len(aud) == 1 {
		c["aud"] = aud[0]
	} else if len(aud) > 1 {
		c["aud"] = aud
	}
	maps.Copy(c, extra)
	return c
}

// Expired returns a Unix time d in the past, for "exp" claims.
func (p *Provider) Expired(d time.Duration) int64 { return p.opts.Now().Add(-d).Unix() }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
