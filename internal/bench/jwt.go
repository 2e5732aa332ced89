package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// jwtIssuer is the issuer the login-jwt workload signs its token as.
const jwtIssuer = "https://bench.coffer.invalid"

// jwtLogin logs in with a signed JWT (auth/<mount>/login, role and jwt) on
// a jwt auth mount of its own that trusts a key made for the run.
type jwtLogin struct {
	tokenType string
	path      string
	body      []byte
}

func (w *jwtLogin) Name() string { return "login-jwt" }

// Setup makes a P-256 key, enables jwt auth with its public key, creates a
// role and signs one JWT, valid for an hour, that every request sends.
func (w *jwtLogin) Setup(ctx context.Context, c *apiclient.Client) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("login-jwt setup: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("login-jwt setup: %w", err)
	}
	path := uniqueName("bench-jwt-")
	if err := enableAuth(ctx, c, path, "jwt"); err != nil {
		return err
	}
	w.path = path
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if _, err := c.Write(ctx, "auth/"+path+"/config", map[string]any{
		"jwt_validation_pubkeys": []string{pub}, "bound_issuer": jwtIssuer, "jwt_supported_algs": []string{"ES256"},
	}); err != nil {
		return fmt.Errorf("login-jwt setup: %w", err)
	}
	role := loginTokenFields(w.tokenType)
	role["role_type"], role["user_claim"], role["bound_audiences"] = "jwt", "sub", []string{"coffer-bench"}
	if _, err := c.Write(ctx, "auth/"+path+"/role/bench", role); err != nil {
		return fmt.Errorf("login-jwt setup: %w", err)
	}
	now := time.Now()
	jwt, err := signES256(key, map[string]any{
		"iss": jwtIssuer, "sub": "bench-workload", "aud": "coffer-bench",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		return fmt.Errorf("login-jwt setup: %w", err)
	}
	w.body, err = json.Marshal(map[string]string{"role": "bench", "jwt": jwt})
	return err
}

func (w *jwtLogin) Next(*mrand.Rand, uint64) Op {
	return Op{Method: http.MethodPost, Path: "auth/" + w.path + "/login", Body: w.body, Token: NoToken}
}

// Cleanup disables the auth mount, which removes its config and role.
func (w *jwtLogin) Cleanup(ctx context.Context, c *apiclient.Client) error {
	return disableAuth(ctx, c, w.path)
}

// signES256 encodes claims as a compact JWS signed with ES256 (RFC 7518
// §3.4: the signature is r || s, each 32 bytes).
func signES256(key *ecdsa.PrivateKey, claims map[string]any) (string, error) {
	enc := base64.RawURLEncoding
	header, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
}
