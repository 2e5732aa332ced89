package kubernetes_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
	authk8s "github.com/hashicorp/vault/api/auth/kubernetes"

	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/server/servertest"
	"github.com/cofferdev/coffer/internal/testkube"
)

// e2e is a Coffer server with the kubernetes method at auth/k8s/, configured
// against a real kube-apiserver, with role "web" for apps/web (audience
// vault, policy web-read, 15m tokens).
type e2e struct {
	in       *servertest.Instance
	kube     *testkube.Cluster
	reviewer string
	uid      string
}

func newE2E(t *testing.T) *e2e {
	if _, ok := server.AuthFactories()["kubernetes"]; !ok {
		t.Fatal(`server.AuthFactories() has no "kubernetes" entry: register kubernetes.Factory`)
	}
	kube := testkube.Start(t)
	e := &e2e{kube: kube, reviewer: kube.Reviewer(t)}
	kube.CreateNamespace(t, "apps")
	kube.CreateNamespace(t, "other")
	e.uid = kube.CreateServiceAccount(t, "apps", "web", nil)
	kube.CreateServiceAccount(t, "other", "web", nil)
	e.in = servertest.Start(t, servertest.Options{})
	root := e.in.Client
	if err := root.Sys().EnableAuthWithOptions("k8s", &vaultapi.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	writes := []struct {
		path string
		data map[string]any
	}{
		{"auth/k8s/config", map[string]any{"kubernetes_host": kube.URL, "kubernetes_ca_cert": string(kube.CAPEM),
			"token_reviewer_jwt": e.reviewer}},
		{"auth/k8s/role/web", map[string]any{"bound_service_account_names": []string{"web"},
			"bound_service_account_namespaces": []string{"apps"}, "audience": "vault",
			"token_policies": []string{"web-read"}, "token_ttl": "15m"}},
	}
	for _, w := range writes {
		if _, err := root.Logical().Write(w.path, w.data); err != nil {
			t.Fatalf("write %s: %v", w.path, err)
		}
	}
	return e
}

// TestVaultClientLogin drives the whole flow through a real Coffer server,
// the official Vault client's kubernetes helper and a real kube-apiserver.
func TestVaultClientLogin(t *testing.T) {
	e := newE2E(t)
	cfg, err := e.in.Client.Logical().Read("auth/k8s/config")
	if err != nil || cfg == nil || cfg.Data["token_reviewer_jwt"] != nil || cfg.Data["kubernetes_host"] != e.kube.URL {
		t.Fatalf("config read = %v, %v", cfg, err)
	}
	good := e.kube.Token(t, "apps", "web", []string{"vault"})
	secret := login(t, e.in, good)
	a := secret.Auth
	if a == nil || !strings.HasPrefix(a.ClientToken, "hvs.") || a.LeaseDuration != 900 || !contains(a.Policies, "web-read") ||
		a.Metadata["service_account_uid"] != e.uid || a.Metadata["service_account_namespace"] != "apps" {
		t.Fatalf("auth = %+v", a)
	}
	self, err := e.in.NewClient(t, a.ClientToken).Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := self.Data["display_name"].(string); !strings.Contains(name, "apps-web") {
		t.Fatalf("display_name = %v", self.Data["display_name"])
	}
	e.in.CheckNoLeaks(t, e.reviewer, good)
}

// TestVaultClientRefusals checks that refused logins are 403s through the
// HTTP API and that no token reaches the server log.
func TestVaultClientRefusals(t *testing.T) {
	e := newE2E(t)
	tests := []struct{ name, tok string }{
		{"other namespace", e.kube.Token(t, "other", "web", []string{"vault"})},
		{"wrong audience", e.kube.Token(t, "apps", "web", []string{"elsewhere"})},
		{"not a jwt", "garbage-credential"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secret, err := loginErr(t, e.in, tc.tok)
			var re *vaultapi.ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
				t.Fatalf("login = %v, %v; want 403", secret, err)
			}
			if strings.Contains(err.Error(), tc.tok) {
				t.Fatal("the error quotes the token")
			}
			e.in.CheckNoLeaks(t, e.reviewer, tc.tok)
		})
	}
}

func login(t *testing.T, in *servertest.Instance, jwt string) *vaultapi.Secret {
	t.Helper()
	secret, err := loginErr(t, in, jwt)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func loginErr(t *testing.T, in *servertest.Instance, jwt string) (*vaultapi.Secret, error) {
	a, err := authk8s.NewKubernetesAuth("web", authk8s.WithMountPath("k8s"), authk8s.WithServiceAccountToken(jwt))
	if err != nil {
		return nil, err
	}
	return a.Login(context.Background(), in.NewClient(t, ""))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
