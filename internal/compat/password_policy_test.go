package compat

import (
	"strings"
	"testing"
	"unicode"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestPasswordPolicies writes, reads, lists, uses and deletes a password
// policy through sys/policies/password, as `vault write
// sys/policies/password/...` and Terraform's vault_password_policy do.
func TestPasswordPolicies(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	lc := in.Client.Logical()
	policy := `length = 16
rule "charset" {
  charset   = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}
rule "charset" {
  charset   = "0123456789"
  min-chars = 3
}`
	if _, err := lc.Write("sys/policies/password/app", map[string]any{"policy": policy}); err != nil {
		t.Fatal(err)
	}
	got, err := lc.Read("sys/policies/password/app")
	if err != nil || got.Data["policy"] != policy {
		t.Fatalf("read back %v, %v", got, err)
	}
	list, err := lc.List("sys/policies/password")
	if err != nil || len(list.Data["keys"].([]any)) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	gen, err := lc.Read("sys/policies/password/app/generate")
	if err != nil {
		t.Fatal(err)
	}
	pw := gen.Data["password"].(string)
	digits := strings.IndexFunc(pw, unicode.IsDigit) >= 0 && len(strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, pw)) >= 3
	if len(pw) != 16 || !digits || strings.ContainsFunc(pw, func(r rune) bool { return !unicode.IsLower(r) && !unicode.IsDigit(r) }) {
		t.Fatalf("generated %q breaks the policy", pw)
	}
	for _, bad := range []string{`length = 2` + "\n" + `rule "charset" { charset = "ab" }`, `length = 8`, `nonsense = = 1`} {
		if _, err := lc.Write("sys/policies/password/bad", map[string]any{"policy": bad}); !isStatus(err, 400) {
			t.Errorf("policy %q: %v; want 400", bad, err)
		}
	}
	if _, err := lc.Read("sys/policies/password/nope/generate"); !isStatus(err, 400) {
		t.Errorf("generate from a missing policy: %v; want 400", err)
	}
	if _, err := lc.Delete("sys/policies/password/app"); err != nil {
		t.Fatal(err)
	}
	if got, err := lc.Read("sys/policies/password/app"); err != nil || got != nil {
		t.Fatalf("after delete: %v, %v", got, err)
	}
}
