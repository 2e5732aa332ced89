package compat

import (
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestTokenCreateLookupRenewRevoke(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	ta := in.Client.Auth().Token()
	sec, err := ta.Create(&vaultapi.TokenCreateRequest{
		Policies: []string{"dev"}, TTL: "1h", ExplicitMaxTTL: "2h", DisplayName: "ci",
		Metadata: map[string]string{"team": "platform"}, NumUses: 0,
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	a := sec.Auth
	if a.ClientToken == "" || a.Accessor == "" || a.LeaseDuration != 3600 || !a.Renewable {
		t.Fatalf("create auth = %+v", a)
	}
	if want := []string{"default", "dev"}; !equalStrings(a.Policies, want) {
		t.Fatalf("policies = %v; want %v", a.Policies, want)
	}
	look, err := ta.Lookup(a.ClientToken)
	if err != nil {
		t.Fatal(err)
	}
	if look.Data["display_name"] != "token-ci" || look.Data["accessor"] != a.Accessor || look.Data["id"] != a.ClientToken {
		t.Fatalf("lookup data = %v", look.Data)
	}
	if meta, _ := look.Data["meta"].(map[string]any); meta["team"] != "platform" {
		t.Fatalf("lookup meta = %v", look.Data["meta"])
	}
	byAcc, err := ta.LookupAccessor(a.Accessor)
	if err != nil || byAcc.Data["id"] != "" || byAcc.Data["display_name"] != "token-ci" {
		t.Fatalf("lookup-accessor = %v, %v", byAcc, err)
	}
	child := in.NewClient(t, a.ClientToken)
	self, err := child.Auth().Token().LookupSelf()
	if err != nil || self.Data["accessor"] != a.Accessor {
		t.Fatalf("lookup-self = %v, %v", self, err)
	}
	ren, err := child.Auth().Token().RenewSelf(1800)
	if err != nil || ren.Auth.LeaseDuration != 1800 {
		t.Fatalf("renew-self = %+v, %v", ren, err)
	}
	if err := ta.RevokeAccessor(a.Accessor); err != nil {
		t.Fatal(err)
	}
	if _, err := child.Auth().Token().LookupSelf(); !isStatus(err, 403) {
		t.Fatalf("lookup-self after revoke: %v; want 403", err)
	}
	in.CheckNoLeaks(t, a.ClientToken, in.RootToken)
}

func TestTokenTreeRevocation(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().PutPolicy("creator", `path "auth/token/create" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	parent := createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"creator"}})
	pc := in.NewClient(t, parent)
	child, err := pc.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"creator"}})
	if err != nil {
		t.Fatal(err)
	}
	grand, err := in.NewClient(t, child.Auth.ClientToken).Auth().Token().Create(&vaultapi.TokenCreateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	orphanParent := createToken(t, in, &vaultapi.TokenCreateRequest{})
	survivor, err := in.NewClient(t, orphanParent).Auth().Token().Create(&vaultapi.TokenCreateRequest{})
	if err != nil {
		t.Fatal(err)
	}

	if err := in.Client.Auth().Token().RevokeTree(parent); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"parent": parent, "child": child.Auth.ClientToken, "grandchild": grand.Auth.ClientToken} {
		if _, err := in.NewClient(t, tok).Auth().Token().LookupSelf(); !isStatus(err, 403) {
			t.Errorf("%s still valid after parent revocation: %v", name, err)
		}
	}
	if err := in.Client.Auth().Token().RevokeOrphan(orphanParent); err != nil {
		t.Fatal(err)
	}
	s, err := in.NewClient(t, survivor.Auth.ClientToken).Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("child of revoke-orphan'd token was revoked: %v", err)
	}
	if s.Data["orphan"] != true {
		t.Fatalf("re-parented child orphan = %v; want true", s.Data["orphan"])
	}
}

func TestTokenNumUsesAndExpiry(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	tok := createToken(t, in, &vaultapi.TokenCreateRequest{NumUses: 2, Policies: []string{"default"}})
	c := in.NewClient(t, tok)
	for i := 0; i < 2; i++ {
		if _, err := c.Auth().Token().LookupSelf(); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	if _, err := c.Auth().Token().LookupSelf(); !isStatus(err, 403) {
		t.Fatalf("third use of a 2-use token: %v; want 403", err)
	}

	short := createToken(t, in, &vaultapi.TokenCreateRequest{TTL: "1s"})
	sc := in.NewClient(t, short)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := sc.Auth().Token().LookupSelf()
		if isStatus(err, 403) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a 1s token still works after 10s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestTokenPolicySubsetAndOrphanRules(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().PutPolicy("creator", `path "auth/token/create*" { capabilities = ["create", "update"] }`); err != nil {
		t.Fatal(err)
	}
	tok := createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"creator"}})
	c := in.NewClient(t, tok).Auth().Token()
	if _, err := c.Create(&vaultapi.TokenCreateRequest{Policies: []string{"admin"}}); err == nil {
		t.Fatal("non-root token granted a policy it does not hold")
	}
	if _, err := c.Create(&vaultapi.TokenCreateRequest{Policies: []string{"creator"}}); err != nil {
		t.Fatalf("subset create: %v", err)
	}
	if _, err := c.Create(&vaultapi.TokenCreateRequest{NoParent: true}); err == nil {
		t.Fatal("no_parent token created without sudo")
	}
	if _, err := in.Client.Auth().Token().CreateOrphan(&vaultapi.TokenCreateRequest{}); err != nil {
		t.Fatalf("root create-orphan: %v", err)
	}
}

func TestTokenBoundCIDRs(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	s, err := in.Client.Logical().Write("auth/token/create", map[string]any{"bound_cidrs": []string{"10.0.0.0/8"}, "policies": []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.NewClient(t, s.Auth.ClientToken).Auth().Token().LookupSelf(); !isStatus(err, 403) {
		t.Fatalf("token bound to 10/8 used from loopback: %v; want 403", err)
	}
	s, err = in.Client.Logical().Write("auth/token/create", map[string]any{"bound_cidrs": []string{"127.0.0.0/8"}, "policies": []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.NewClient(t, s.Auth.ClientToken).Auth().Token().LookupSelf(); err != nil {
		t.Fatalf("token bound to 127/8 from loopback: %v", err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTokenMountTuneSetsTokenTTLs(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().TuneMountAllowNil("auth/token", vaultapi.TuneMountConfigInput{
		DefaultLeaseTTL: strPtr("2h"), MaxLeaseTTL: strPtr("4h")}); err != nil {
		t.Fatalf("tune auth/token: %v", err)
	}
	s, err := in.Client.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"default"}})
	if err != nil || s.Auth.LeaseDuration != 7200 {
		t.Fatalf("default token TTL after tune = %+v, %v; want 7200", s, err)
	}
	s, err = in.Client.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"default"}, TTL: "100h"})
	if err != nil || s.Auth.LeaseDuration != 4*3600 {
		t.Fatalf("token TTL above the tuned max = %+v, %v; want capped at 14400", s, err)
	}
}
