package kubernetes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/testkube"
)

// kubeEnv is a backend configured against a real API server.
type kubeEnv struct {
	*env
	kube     *testkube.Cluster
	reviewer string
}

// configure writes the config: the cluster's URL and CA plus extra fields.
func (k *kubeEnv) configure(extra map[string]any) {
	k.t.Helper()
	data := map[string]any{"kubernetes_host": k.kube.URL, "kubernetes_ca_cert": string(k.kube.CAPEM),
		"token_reviewer_jwt": k.reviewer}
	for key, v := range extra {
		if v == nil {
			delete(data, key)
			continue
		}
		data[key] = v
	}
	k.Must(logical.UpdateOperation, "config", data)
}

func (k *kubeEnv) login(role, jwtStr string) (*logical.Auth, error) {
	resp, err := k.Do(logical.UpdateOperation, "login", map[string]any{"role": role, "jwt": jwtStr})
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Auth == nil {
		k.t.Fatalf("login without error returned no Auth: %v", resp)
	}
	return resp.Auth, nil
}

// refused asserts a plain permission denied that does not quote the token.
func refused(t *testing.T, a *logical.Auth, err error, jwtStr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("login accepted: %+v", a)
	}
	if logical.KindOf(err) != logical.KindPermissionDenied || err.Error() != "permission denied" {
		t.Fatalf("err = %v (kind %v), want plain permission denied", err, logical.KindOf(err))
	}
	if strings.Contains(err.Error(), jwtStr) {
		t.Fatal("error quotes the token")
	}
}

// kubeFixture is a configured backend, a cluster with namespaces apps,
// other and team-a, and roles "web" (apps/web, audience vault) and "teams"
// (any name in team-*, aliased by name).
type kubeFixture struct {
	*kubeEnv
	webUID string
}

func newKubeFixture(t *testing.T) *kubeFixture {
	kube := testkube.Start(t)
	k := &kubeFixture{kubeEnv: &kubeEnv{env: newEnv(t, Options{}), kube: kube, reviewer: kube.Reviewer(t)}}
	k.configure(nil)
	for _, ns := range []string{"apps", "other", "team-a"} {
		kube.CreateNamespace(t, ns)
	}
	k.webUID = kube.CreateServiceAccount(t, "apps", "web", nil)
	kube.CreateServiceAccount(t, "other", "web", nil)
	kube.CreateServiceAccount(t, "team-a", "worker", nil)
	k.Must(logical.UpdateOperation, "role/web", map[string]any{
		"bound_service_account_names": "web", "bound_service_account_namespaces": "apps",
		"audience": "vault", "token_policies": "web-read", "token_ttl": "10m",
	})
	k.Must(logical.UpdateOperation, "role/teams", map[string]any{
		"bound_service_account_names": "*", "bound_service_account_namespaces": "team-*",
		"audience": "vault", "alias_name_source": AliasNameSourceName,
	})
	return k
}

func TestLoginAgainstKubeAPIServer(t *testing.T) {
	k := newKubeFixture(t)
	t.Run("service account logs in", k.testLogin)
	t.Run("refusals", k.testRefusals)
	t.Run("deleted service account", k.testDeletedServiceAccount)
	t.Run("pem keys", k.testPEMKeys)
	t.Run("namespace selector", k.testNamespaceSelector)
	t.Run("renewal", k.testRenewal)
	if strings.Contains(k.Logs.String(), k.reviewer) {
		t.Fatal("the reviewer token reached the log")
	}
}

func (k *kubeFixture) testLogin(t *testing.T) {
	a, err := k.login("web", k.kube.Token(t, "apps", "web", []string{"vault"}))
	if err != nil {
		t.Fatal(err)
	}
	if a.Alias.Name != k.webUID || a.DisplayName != "apps-web" || a.TTL != 10*time.Minute ||
		strings.Join(a.Policies, ",") != "web-read" {
		t.Fatalf("auth = %+v", a)
	}
	want := map[string]string{metaUID: k.webUID, metaName: "web", metaNamespace: "apps", metaSecretName: ""}
	for key, v := range want {
		if a.Alias.Metadata[key] != v || a.Metadata[key] != v {
			t.Fatalf("metadata %s: alias %q, token %q, want %q", key, a.Alias.Metadata[key], a.Metadata[key], v)
		}
	}
	if a.Metadata["role"] != "web" {
		t.Fatalf("token metadata = %v", a.Metadata)
	}
	a, err = k.login("teams", k.kube.Token(t, "team-a", "worker", []string{"vault"}))
	if err != nil {
		t.Fatalf("glob role: %v", err)
	}
	if a.Alias.Name != "team-a/worker" {
		t.Fatalf("alias by name = %q", a.Alias.Name)
	}
}

// testRenewal: a token from a login renews only while its role exists
// with the token's policies, on the role's TTLs.
func (k *kubeFixture) testRenewal(t *testing.T) {
	write := func(policies []string) {
		k.Must(logical.UpdateOperation, "role/renew", map[string]any{
			"bound_service_account_names": "web", "bound_service_account_namespaces": "apps",
			"audience": "vault", "token_policies": strings.Join(policies, ","), "token_ttl": "10m",
		})
	}
	write([]string{"web-read"})
	a, err := k.login("renew", k.kube.Token(t, "apps", "web", []string{"vault"}))
	if err != nil {
		t.Fatal(err)
	}
	k.CheckRenewal(t, a, write, func() { k.Must(logical.DeleteOperation, "role/renew", nil) }, "renew")
}

func (k *kubeFixture) testRefusals(t *testing.T) {
	tests := []struct {
		name, role, ns, sa string
		aud                []string
		forged             bool
	}{
		{"other namespace", "web", "other", "web", []string{"vault"}, false},
		{"wrong audience", "web", "apps", "web", []string{"not-vault"}, false},
		{"api audience only", "web", "apps", "web", nil, false},
		{"namespace outside the glob", "teams", "apps", "web", []string{"vault"}, false},
		// Right claims, wrong signer: only the API server can tell.
		{"forged claims", "web", "apps", "web", []string{"vault"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := k.kube.Token(t, tc.ns, tc.sa, tc.aud)
			if tc.forged {
				tok = newSigner(t).sign(t, projectedClaims(tc.ns, tc.sa, k.webUID, tc.aud...))
			}
			a, err := k.login(tc.role, tok)
			refused(t, a, err, tok)
		})
	}
}

func (k *kubeFixture) testDeletedServiceAccount(t *testing.T) {
	k.kube.CreateServiceAccount(t, "apps", "temp", nil)
	k.Must(logical.UpdateOperation, "role/temp", map[string]any{
		"bound_service_account_names": "temp", "bound_service_account_namespaces": "apps", "audience": "vault"})
	tok := k.kube.Token(t, "apps", "temp", []string{"vault"})
	if _, err := k.login("temp", tok); err != nil {
		t.Fatalf("before deletion: %v", err)
	}
	k.kube.DeleteServiceAccount(t, "apps", "temp")
	// The API server caches a successful review for up to 10 s.
	deadline := time.Now().Add(time.Minute)
	for {
		a, err := k.login("temp", tok)
		if err != nil {
			refused(t, a, err, tok)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("token of a deleted service account still logs in")
		}
		time.Sleep(time.Second)
	}
}

func (k *kubeFixture) testPEMKeys(t *testing.T) {
	defer k.configure(nil)
	tok := k.kube.Token(t, "apps", "web", []string{"vault"})
	k.configure(map[string]any{"pem_keys": []any{string(k.kube.SigningKeyPEM)}})
	if _, err := k.login("web", tok); err != nil {
		t.Fatalf("with the cluster's key: %v", err)
	}
	k.configure(map[string]any{"pem_keys": []any{newSigner(t).pubPEM}})
	a, err := k.login("web", tok)
	refused(t, a, err, tok)
}

func (k *kubeFixture) testNamespaceSelector(t *testing.T) {
	k.kube.CreateNamespaceWithLabels(t, "labelled", map[string]string{"coffer": "yes", "tier": "prod"})
	k.kube.CreateNamespaceWithLabels(t, "unlabelled", map[string]string{"tier": "prod"})
	k.kube.CreateServiceAccount(t, "labelled", "svc", nil)
	k.kube.CreateServiceAccount(t, "unlabelled", "svc", nil)
	k.Must(logical.UpdateOperation, "role/selected", map[string]any{
		"bound_service_account_names": "svc", "audience": "vault",
		"bound_service_account_namespace_selector": `{"matchLabels":{"coffer":"yes"},"matchExpressions":[{"key":"tier","operator":"In","values":["prod"]}]}`,
	})
	good := k.kube.Token(t, "labelled", "svc", []string{"vault"})
	a, err := k.login("selected", good)
	refused(t, a, err, good) // the reviewer may not read namespaces yet
	k.kube.CreateClusterRole(t, "ns-reader", []string{"namespaces"}, []string{"get"})
	k.kube.BindClusterRole(t, testkube.ReviewerNamespace, testkube.ReviewerName, "ns-reader")
	// RBAC changes reach the authorizer through an informer: poll briefly.
	deadline := time.Now().Add(30 * time.Second)
	for _, err = k.login("selected", good); err != nil && time.Now().Before(deadline); _, err = k.login("selected", good) {
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("labelled namespace: %v", err)
	}
	bad := k.kube.Token(t, "unlabelled", "svc", []string{"vault"})
	a, err = k.login("selected", bad)
	refused(t, a, err, bad)
}

func TestLoginWithoutReviewerJWT(t *testing.T) {
	kube := testkube.Start(t)
	k := &kubeEnv{env: newEnv(t, Options{}), kube: kube}
	k.configure(map[string]any{"token_reviewer_jwt": nil})
	kube.CreateNamespace(t, "apps")
	kube.CreateServiceAccount(t, "apps", "delegated", nil)
	kube.CreateServiceAccount(t, "apps", "plain", nil)
	kube.BindAuthDelegator(t, "apps", "delegated")
	k.Must(logical.UpdateOperation, "role/any", map[string]any{
		"bound_service_account_names": "*", "bound_service_account_namespaces": "apps"})

	// The client's own token authenticates the review, so it must carry
	// the API server's audience and be allowed to create TokenReviews.
	tok := kube.Token(t, "apps", "delegated", nil)
	if _, err := k.login("any", tok); err != nil {
		t.Fatalf("auth-delegator token: %v", err)
	}
	plain := kube.Token(t, "apps", "plain", nil)
	a, err := k.login("any", plain)
	refused(t, a, err, plain)

	// Annotations need a token to read the service account with: without
	// one the login is refused with the reason, not an internal error.
	k.configure(map[string]any{"token_reviewer_jwt": nil, "use_annotations_as_alias_metadata": true})
	_, err = k.login("any", tok)
	if logical.KindOf(err) != logical.KindInvalidRequest || !strings.Contains(err.Error(), "token_reviewer_jwt") {
		t.Fatalf("login with annotations and no reviewer: err = %v, want 400 naming token_reviewer_jwt", err)
	}
}

func TestLoginLocalCAAndJWT(t *testing.T) {
	kube := testkube.Start(t)
	dir := t.TempDir()
	caFile, jwtFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "token")
	reviewer := kube.Reviewer(t)
	if err := os.WriteFile(caFile, kube.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jwtFile, []byte(reviewer+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &kubeEnv{env: newEnv(t, Options{LocalCACertPath: caFile, LocalJWTPath: jwtFile}), kube: kube}
	kube.CreateNamespace(t, "apps")
	kube.CreateServiceAccount(t, "apps", "web", map[string]string{
		annotationPrefix + "team": "payments", "unrelated": "x"})
	k.Must(logical.UpdateOperation, "role/web", map[string]any{
		"bound_service_account_names": "web", "bound_service_account_namespaces": "apps", "audience": "vault"})
	tok := kube.Token(t, "apps", "web", []string{"vault"})

	k.configure(map[string]any{"kubernetes_ca_cert": nil, "token_reviewer_jwt": nil})
	if _, err := k.login("web", tok); err != nil {
		t.Fatalf("with the in-pod CA and token: %v", err)
	}
	k.configure(map[string]any{"kubernetes_ca_cert": nil, "token_reviewer_jwt": nil, "disable_local_ca_jwt": true})
	a, err := k.login("web", tok)
	refused(t, a, err, tok)

	t.Run("annotations as alias metadata", func(t *testing.T) {
		kube.CreateClusterRole(t, "sa-reader", []string{"serviceaccounts"}, []string{"get"})
		kube.BindClusterRole(t, testkube.ReviewerNamespace, testkube.ReviewerName, "sa-reader")
		k.configure(map[string]any{"kubernetes_ca_cert": nil, "token_reviewer_jwt": nil,
			"use_annotations_as_alias_metadata": true})
		a, err := k.login("web", tok)
		if err != nil {
			t.Fatal(err)
		}
		if a.Alias.Metadata["team"] != "payments" || a.Alias.Metadata["unrelated"] != "" ||
			a.Alias.Metadata[metaName] != "web" || a.Metadata["team"] != "" {
			t.Fatalf("alias metadata = %v, token metadata = %v", a.Alias.Metadata, a.Metadata)
		}
		kube.CreateServiceAccount(t, "apps", "sneaky", map[string]string{annotationPrefix + metaNamespace: "kube-system"})
		k.Must(logical.UpdateOperation, "role/sneaky", map[string]any{
			"bound_service_account_names": "sneaky", "bound_service_account_namespaces": "apps", "audience": "vault"})
		_, err = k.login("sneaky", kube.Token(t, "apps", "sneaky", []string{"vault"}))
		if err == nil || logical.KindOf(err) != logical.KindInvalidRequest {
			t.Fatalf("reserved annotation: err = %v, want 400", err)
		}
	})
}
