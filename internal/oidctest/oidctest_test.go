package oidctest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

const redirect = "http://127.0.0.1:8250/oidc/callback"

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// code signs alice in with a PKCE challenge for verifier and returns the code.
func code(t *testing.T, p *Provider, verifier string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	form := url.Values{
		"response_type": {"code"}, "client_id": {p.ClientID()}, "redirect_uri": {redirect},
		"scope": {"openid email"}, "state": {"st"}, "nonce": {"n1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"username": {"alice"}, "password": {"pw"},
	}
	resp, err := noRedirects().PostForm(p.Issuer()+PathAuthorize, form)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	if loc.Query().Get("state") != "st" {
		t.Fatalf("state not echoed: %s", loc)
	}
	return loc.Query().Get("code")
}

func exchange(p *Provider, code, verifier, secret string) (int, map[string]any) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, p.Issuer()+PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(p.ClientID(), secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestCodeFlow(t *testing.T) {
	p := Start(t, Options{Users: map[string]User{"alice": {Password: "pw", Claims: map[string]any{"email": "a@example.com"}}}})
	verifier := "0123456789012345678901234567890123456789abc"
	tests := []struct {
		name, verifier, secret string
		reuse                  bool
		status                 int
	}{
		{"ok", verifier, p.ClientSecret(), false, http.StatusOK},
		{"wrong verifier", "x" + verifier[1:], p.ClientSecret(), false, http.StatusBadRequest},
		{"wrong secret", verifier, "nope", false, http.StatusUnauthorized},
		{"code reused", verifier, p.ClientSecret(), true, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := code(t, p, verifier)
			if tc.reuse {
				if st, _ := exchange(p, c, verifier, p.ClientSecret()); st != http.StatusOK {
					t.Fatalf("first exchange: %d", st)
				}
			}
			st, body := exchange(p, c, tc.verifier, tc.secret)
			if st != tc.status {
				t.Fatalf("status %d, want %d (%v)", st, tc.status, body)
			}
			if st != http.StatusOK {
				return
			}
			idt, err := josejwt.ParseSigned(body["id_token"].(string), []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := idt.Claims(p.keys[0].priv.Public(), &claims); err != nil {
				t.Fatal(err)
			}
			if claims["nonce"] != "n1" || claims["email"] != "a@example.com" || claims["aud"] != p.ClientID() || claims["iss"] != p.Issuer() {
				t.Fatalf("id_token claims = %v", claims)
			}
			req, _ := http.NewRequest(http.MethodGet, p.Issuer()+PathUserinfo, nil)
			req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(info), "a@example.com") {
				t.Fatalf("userinfo: %d %s", resp.StatusCode, info)
			}
		})
	}
}

func TestDiscoveryAndRotation(t *testing.T) {
	p := Start(t, Options{TLS: true})
	if !strings.Contains(p.CACertPEM(), "BEGIN CERTIFICATE") {
		t.Fatal("TLS provider has no CA PEM")
	}
	if _, err := p.MintWith(map[string]any{"a": 1}, MintOptions{Alg: jose.ES256}); err != nil {
		t.Fatal(err)
	}
	old := p.KeyID()
	kid, err := p.RotateKey()
	if err != nil || kid == old {
		t.Fatalf("rotate: %q %v", kid, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.keys) != 1 || p.keys[0].kid != kid {
		t.Fatalf("after rotation the JWKS holds %d keys", len(p.keys))
	}
}

func TestMintNone(t *testing.T) {
	p := Start(t, Options{})
	tok, err := p.MintWith(map[string]any{"sub": "x"}, MintOptions{Alg: AlgNone})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if len(parts) != 3 || parts[2] != "" || !strings.Contains(string(hdr), `"none"`) {
		t.Fatalf("unsigned token = %q", tok)
	}
}
