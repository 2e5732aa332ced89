package jwt

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/oidctest"
)

// FuzzLogin sends arbitrary strings as the jwt of a login against a
// discovered key set: every one is a 400 whose message never quotes the
// input.
func FuzzLogin(f *testing.F) {
	h := newHarness(f, oidctest.Options{})
	h.discoveryConfig(nil) // the remote key set: unknown key ids refetch it
	h.jwtRole("dev", nil)
	valid := h.token(nil)
	parts := strings.Split(valid, ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.AAAA")
	f.Add("a.b.c")
	f.Add("....")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6WzFdfQ.bnVsbA.x")
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == valid {
			return
		}
		_, err := h.login("dev", tok)
		if err == nil {
			t.Fatalf("arbitrary token %q logged in", tok)
		}
		if k := logical.KindOf(err); k != logical.KindInvalidRequest {
			t.Fatalf("kind %v for %q: %v", k, tok, err)
		}
		if len(tok) >= 12 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error quotes the token: %v", err)
		}
	})
}

// FuzzClaims runs arbitrary verified-claim JSON through the claim checks
// and the alias, metadata and group extraction.
func FuzzClaims(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add([]byte(`{"iss":"https://idp","aud":"coffer","exp":1800000100,"email":"a@b","groups":["x","y"],"team":"eng","org":{"unit":"u"}}`))
	f.Add([]byte(`{"aud":["coffer",1,true],"exp":1e30,"email":7,"groups":"solo","team":["eng",{"a":1}]}`))
	f.Add([]byte(`{"exp":"soon","nbf":-1,"iat":null,"email":{"x":1},"groups":[[]]}`))
	f.Add([]byte(`{"exp":1800000100,"email":"","org":[1,2,3]}`))
	r := &role{RoleType: roleTypeJWT, UserClaim: "email", GroupsClaim: "groups", BoundAudiences: []string{"coffer"},
		BoundClaims: map[string][]string{"team": {"e*"}, "/org/unit": {"*"}}, BoundClaimsType: boundClaimsGlob,
		ClaimMappings: map[string]string{"name": "n", "/org/unit": "unit"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var claims map[string]any
		if dec.Decode(&claims) != nil || claims == nil {
			return
		}
		err := checkClaims(claims, r, checkOptions{now: now, issuer: "https://idp"})
		if err != nil && logical.KindOf(err) != logical.KindInvalidRequest {
			t.Fatalf("check kind %v: %v", logical.KindOf(err), err)
		}
		id, err := extractIdentity(claims, r)
		if err != nil {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("extract kind %v: %v", logical.KindOf(err), err)
			}
			return
		}
		if id.user == "" {
			t.Fatal("empty alias name accepted")
		}
		auth := loginAuth(r, "dev", id)
		if auth.Alias.Name != id.user || auth.Metadata["role"] != "dev" || len(auth.GroupAliases) != len(id.groups) {
			t.Fatalf("auth does not reflect identity: %+v", auth)
		}
	})
}
