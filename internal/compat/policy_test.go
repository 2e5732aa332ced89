package compat

import (
	"sort"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

const appPolicy = `
# read-only access to the app's secrets, nothing else
path "secret/data/app/*" {
  capabilities = ["read", "list"]
}
path "secret/metadata/app/*" {
  capabilities = ["list"]
}
path "secret/data/app/admin" {
  capabilities = ["deny"]
}
`

func TestPolicyCRUD(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	sys := in.Client.Sys()
	if err := sys.PutPolicy("app", appPolicy); err != nil {
		t.Fatalf("PutPolicy: %v", err)
	}
	got, err := sys.GetPolicy("app")
	if err != nil || got != appPolicy {
		t.Fatalf("GetPolicy = %q, %v", got, err)
	}
	names, err := sys.ListPolicies()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if !equalStrings(names, []string{"app", "default", "root"}) {
		t.Fatalf("ListPolicies = %v", names)
	}
	if err := sys.PutPolicy("broken", `path "x" { capabilities = ["reed"] }`); !isStatus(err, 400) {
		t.Fatalf("bad policy: %v; want 400", err)
	}
	if err := sys.PutPolicy("root", `path "*" { capabilities = ["read"] }`); !isStatus(err, 400) {
		t.Fatalf("overwriting root: %v; want 400", err)
	}
	if err := sys.DeletePolicy("default"); !isStatus(err, 400) {
		t.Fatalf("deleting default: %v; want 400", err)
	}
	if err := sys.DeletePolicy("app"); err != nil {
		t.Fatal(err)
	}
	if got, err := sys.GetPolicy("app"); err != nil || got != "" {
		t.Fatalf("GetPolicy after delete = %q, %v", got, err)
	}
}

func TestPolicyEnforcement(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().PutPolicy("app", appPolicy); err != nil {
		t.Fatal(err)
	}
	kv := in.Client.KVv2("secret")
	for _, p := range []string{"app/db", "app/admin", "other/x"} {
		if _, err := kv.Put(t.Context(), p, map[string]any{"password": "s3cr3t-" + p}); err != nil {
			t.Fatal(err)
		}
	}
	tok := createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"app"}})
	c := in.NewClient(t, tok)
	if s, err := c.KVv2("secret").Get(t.Context(), "app/db"); err != nil || s.Data["password"] != "s3cr3t-app/db" {
		t.Fatalf("allowed read = %v, %v", s, err)
	}
	for _, p := range []string{"app/admin", "other/x"} {
		if _, err := c.KVv2("secret").Get(t.Context(), p); !isStatus(err, 403) {
			t.Errorf("read %s: %v; want 403", p, err)
		}
	}
	if _, err := c.KVv2("secret").Put(t.Context(), "app/db", map[string]any{"x": "y"}); !isStatus(err, 403) {
		t.Errorf("write with read-only policy: %v; want 403", err)
	}
	// Policy changes apply to existing tokens at once.
	if err := in.Client.Sys().PutPolicy("app", `path "secret/data/app/*" { capabilities = ["deny"] }`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KVv2("secret").Get(t.Context(), "app/db"); !isStatus(err, 403) {
		t.Errorf("read after policy tightened: %v; want 403", err)
	}
}

func TestCapabilities(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().PutPolicy("app", appPolicy); err != nil {
		t.Fatal(err)
	}
	tok := createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"app"}})
	caps, err := in.Client.Sys().Capabilities(tok, "secret/data/app/db")
	if err != nil || !equalStrings(caps, []string{"list", "read"}) {
		t.Fatalf("capabilities = %v, %v", caps, err)
	}
	caps, err = in.Client.Sys().Capabilities(tok, "secret/data/app/admin")
	if err != nil || !equalStrings(caps, []string{"deny"}) {
		t.Fatalf("capabilities on denied path = %v, %v", caps, err)
	}
	caps, err = in.NewClient(t, tok).Sys().CapabilitiesSelf("secret/data/app/db")
	if err != nil || !equalStrings(caps, []string{"list", "read"}) {
		t.Fatalf("capabilities-self = %v, %v", caps, err)
	}
	look, err := in.Client.Auth().Token().Lookup(tok)
	if err != nil {
		t.Fatal(err)
	}
	s, err := in.Client.Logical().Write("sys/capabilities-accessor", map[string]any{
		"accessor": look.Data["accessor"], "paths": []string{"secret/data/other"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Data["capabilities"].([]any); len(got) != 1 || got[0] != "deny" {
		t.Fatalf("capabilities-accessor = %v", s.Data)
	}
	caps, err = in.Client.Sys().CapabilitiesSelf("anything/at/all")
	if err != nil || !equalStrings(caps, []string{"root"}) {
		t.Fatalf("root capabilities = %v, %v", caps, err)
	}
}
