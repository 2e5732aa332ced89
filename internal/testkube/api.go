package testkube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ReviewerNamespace and ReviewerName name the service account Reviewer
// creates.
const (
	ReviewerNamespace = "coffer-system"
	ReviewerName      = "coffer-token-reviewer"
)

// APIError is a non-2xx answer of the API server.
type APIError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("testkube: %s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

func httpClient(caPEM []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("testkube: bad CA PEM")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// HTTPClient returns a client that trusts the API server's CA.
func (c *Cluster) HTTPClient() *http.Client { return c.client }

// AdminToken is a bearer token in group system:masters.
func (c *Cluster) AdminToken() string { return c.adminToken }

// Do sends method path with the admin token, body encoded as JSON when not
// nil, and decodes the answer into out when not nil.
func (c *Cluster) Do(ctx context.Context, method, path string, body, out any) error {
	return c.DoAs(ctx, c.adminToken, method, path, body, out)
}

// DoAs is Do with another bearer token.
func (c *Cluster) DoAs(ctx context.Context, token, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("testkube: encode body: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return fmt.Errorf("testkube: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("testkube: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("testkube: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("testkube: decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

func (c *Cluster) must(t testing.TB, method, path string, body, out any) {
	t.Helper()
	if err := c.Do(context.Background(), method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

// CreateNamespace creates namespace ns.
func (c *Cluster) CreateNamespace(t testing.TB, ns string) {
	t.Helper()
	c.CreateNamespaceWithLabels(t, ns, nil)
}

// CreateNamespaceWithLabels creates namespace ns with labels (may be nil).
func (c *Cluster) CreateNamespaceWithLabels(t testing.TB, ns string, labels map[string]string) {
	t.Helper()
	c.must(t, http.MethodPost, "/api/v1/namespaces", map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns, "labels": labels},
	}, nil)
}

// DeleteNamespace deletes namespace ns. With no controller-manager it stays
// Terminating: new objects are refused in it, existing ones stay.
func (c *Cluster) DeleteNamespace(t testing.TB, ns string) {
	t.Helper()
	c.must(t, http.MethodDelete, "/api/v1/namespaces/"+ns, nil, nil)
}

// CreateServiceAccount creates service account ns/name with the given
// annotations (may be nil) and returns its UID.
func (c *Cluster) CreateServiceAccount(t testing.TB, ns, name string, annotations map[string]string) string {
	t.Helper()
	var out struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	c.must(t, http.MethodPost, "/api/v1/namespaces/"+ns+"/serviceaccounts", map[string]any{
		"apiVersion": "v1", "kind": "ServiceAccount",
		"metadata": map[string]any{"name": name, "namespace": ns, "annotations": annotations},
	}, &out)
	if out.Metadata.UID == "" {
		t.Fatalf("testkube: service account %s/%s has no uid", ns, name)
	}
	return out.Metadata.UID
}

// DeleteServiceAccount deletes service account ns/name; its tokens stop
// passing TokenReview.
func (c *Cluster) DeleteServiceAccount(t testing.TB, ns, name string) {
	t.Helper()
	c.must(t, http.MethodDelete, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+name, nil, nil)
}

// Token asks the TokenRequest API for a one-hour token of service account
// ns/sa with the given audiences (none: the API server's own audience).
func (c *Cluster) Token(t testing.TB, ns, sa string, audiences []string) string {
	t.Helper()
	spec := map[string]any{"expirationSeconds": 3600}
	if len(audiences) > 0 {
		spec["audiences"] = audiences
	}
	var out struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	c.must(t, http.MethodPost, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+sa+"/token", map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec,
	}, &out)
	if out.Status.Token == "" {
		t.Fatalf("testkube: empty token for %s/%s", ns, sa)
	}
	return out.Status.Token
}

// BindAuthDelegator binds service account ns/sa to the cluster role
// system:auth-delegator, which allows it to create TokenReviews.
func (c *Cluster) BindAuthDelegator(t testing.TB, ns, sa string) {
	t.Helper()
	c.BindClusterRole(t, ns, sa, "system:auth-delegator")
}

// CreateClusterRole creates a cluster role that allows verbs on resources
// of the core API group.
func (c *Cluster) CreateClusterRole(t testing.TB, name string, resources, verbs []string) {
	t.Helper()
	c.must(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/clusterroles", map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": name},
		"rules":    []any{map[string]any{"apiGroups": []string{""}, "resources": resources, "verbs": verbs}},
	}, nil)
}

// BindClusterRole binds service account ns/sa to a cluster role.
func (c *Cluster) BindClusterRole(t testing.TB, ns, sa, clusterRole string) {
	t.Helper()
	name := strings.NewReplacer(":", "-").Replace(clusterRole) + "-" + ns + "-" + sa
	c.must(t, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": name},
		"roleRef": map[string]any{
			"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": clusterRole,
		},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": sa, "namespace": ns}},
	}, nil)
}

// Reviewer creates the namespace ReviewerNamespace and in it the service
// account ReviewerName bound to system:auth-delegator, and returns a token
// of it for the API server's audience: what Vault's token_reviewer_jwt is.
// Call it once per cluster.
func (c *Cluster) Reviewer(t testing.TB) string {
	t.Helper()
	c.CreateNamespace(t, ReviewerNamespace)
	c.CreateServiceAccount(t, ReviewerNamespace, ReviewerName, nil)
	c.BindAuthDelegator(t, ReviewerNamespace, ReviewerName)
	return c.Token(t, ReviewerNamespace, ReviewerName, nil)
}
