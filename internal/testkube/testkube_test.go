package testkube

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// review posts a TokenReview of token as reviewer and returns the status.
func review(t *testing.T, c *Cluster, reviewer, token string, audiences []string) (bool, string) {
	t.Helper()
	var out struct {
		Status struct {
			Authenticated bool `json:"authenticated"`
			User          struct {
				Username string `json:"username"`
			} `json:"user"`
		} `json:"status"`
	}
	err := c.DoAs(context.Background(), reviewer, http.MethodPost, "/apis/authentication.k8s.io/v1/tokenreviews",
		map[string]any{
			"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
			"spec": map[string]any{"token": token, "audiences": audiences},
		}, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.Status.Authenticated, out.Status.User.Username
}

func TestCluster(t *testing.T) {
	c := Start(t)
	if !strings.HasPrefix(c.URL, "https://127.0.0.1:") || !strings.Contains(string(c.CAPEM), "CERTIFICATE") {
		t.Fatalf("cluster = %v, CA %q", c, c.CAPEM)
	}
	if strings.Contains(c.String(), c.AdminToken()) {
		t.Fatal("String shows the admin token")
	}
	reviewer := c.Reviewer(t)
	c.CreateNamespace(t, "apps")
	uid := c.CreateServiceAccount(t, "apps", "web", map[string]string{"a": "b"})
	if uid == "" {
		t.Fatal("no uid")
	}
	tests := []struct {
		name      string
		tokenAud  []string
		reviewAud []string
		want      bool
	}{
		{"api audience", nil, nil, true},
		{"matching audience", []string{"vault"}, []string{"vault"}, true},
		{"other audience", []string{"other"}, []string{"vault"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := c.Token(t, "apps", "web", tc.tokenAud)
			ok, user := review(t, c, reviewer, tok, tc.reviewAud)
			if ok != tc.want {
				t.Fatalf("authenticated = %v, want %v", ok, tc.want)
			}
			if ok && user != "system:serviceaccount:apps:web" {
				t.Fatalf("username = %q", user)
			}
		})
	}
	t.Run("deleted service account", func(t *testing.T) { testDeleted(t, c, reviewer) })
	t.Run("reviewer needs auth-delegator", func(t *testing.T) {
		plain := c.Token(t, "apps", "web", nil)
		err := c.DoAs(context.Background(), plain, http.MethodPost, "/apis/authentication.k8s.io/v1/tokenreviews",
			map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
				"spec": map[string]any{"token": plain}}, nil)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
			t.Fatalf("err = %v, want 403", err)
		}
	})
}

// testDeleted checks that a deleted service account's token stops passing
// review.
func testDeleted(t *testing.T, c *Cluster, reviewer string) {
	c.CreateServiceAccount(t, "apps", "gone", nil)
	tok := c.Token(t, "apps", "gone", nil)
	if ok, _ := review(t, c, reviewer, tok, nil); !ok {
		t.Fatal("fresh token refused")
	}
	c.DeleteServiceAccount(t, "apps", "gone")
	// The API server caches successful reviews for 10 s.
	deadline := time.Now().Add(time.Minute)
	for {
		ok, _ := review(t, c, reviewer, tok, nil)
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("token of a deleted service account still accepted")
		}
		time.Sleep(time.Second)
	}
}
