package kubernetes

import (
	"crypto"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestConfigWriteRead(t *testing.T) {
	caPEM := "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBATAKBggqhkjOPQQDAjAWMRQwEgYDVQQDEwt0ZXN0IENBIDAwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAxMDAwMDAwWjAWMRQwEgYDVQQDEwt0ZXN0IENBIDAwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ=\n-----END CERTIFICATE-----\n"
	s := newSigner(t)
	tests := []struct {
		name    string
		data    map[string]any
		wantErr string
	}{
		{"no host", map[string]any{}, "no host provided"},
		{"bad scheme", map[string]any{"kubernetes_host": "ftp://x"}, "kubernetes_host"},
		{"bad ca", map[string]any{"kubernetes_host": "k8s:6443", "kubernetes_ca_cert": "nope"}, "kubernetes_ca_cert"},
		{"truncated ca", map[string]any{"kubernetes_host": "k8s:6443", "kubernetes_ca_cert": caPEM}, "kubernetes_ca_cert"},
		{"bad pem key", map[string]any{"kubernetes_host": "k8s:6443", "pem_keys": []any{"nope"}}, "pem_keys"},
		{"annotations without a reviewer", map[string]any{"kubernetes_host": "k8s:6443", "disable_local_ca_jwt": true,
			"use_annotations_as_alias_metadata": true}, "use_annotations_as_alias_metadata needs token_reviewer_jwt"},
		{"ok", map[string]any{"kubernetes_host": "k8s.example:6443", "token_reviewer_jwt": "reviewer-secret",
			"pem_keys": []any{s.pubPEM}, "issuer": "ignored", "use_annotations_as_alias_metadata": true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			_, err := e.Do(logical.UpdateOperation, "config", tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || logical.KindOf(err) != logical.KindInvalidRequest {
					t.Fatalf("err = %v, want 400 with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := e.Must(logical.ReadOperation, "config", nil).Data
			if _, ok := d["token_reviewer_jwt"]; ok || d["token_reviewer_jwt_set"] != true {
				t.Fatalf("reviewer jwt shown or not flagged: %v", d)
			}
			if d["kubernetes_host"] != "k8s.example:6443" || d["issuer"] != "ignored" ||
				d["disable_iss_validation"] != true || d["use_annotations_as_alias_metadata"] != true {
				t.Fatalf("config = %v", d)
			}
			if keys := d["pem_keys"].([]string); len(keys) != 1 || keys[0] != s.pubPEM {
				t.Fatalf("pem_keys = %v", keys)
			}
		})
	}
}

func TestConfigReadAbsent(t *testing.T) {
	e := newEnv(t, Options{})
	if resp := e.Must(logical.ReadOperation, "config", nil); resp != nil {
		t.Fatalf("unconfigured read = %v, want nil (404)", resp)
	}
}

func TestAPIBaseURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.1", "https://10.0.0.1"},
		{"k8s:6443", "https://k8s:6443"},
		{"https://k8s:6443/", "https://k8s:6443"},
		{"http://127.0.0.1:8080/prefix/", "http://127.0.0.1:8080/prefix"},
		{"ftp://k8s", ""},
		{"https://user:pw@k8s", ""},
		{"https://", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := apiBaseURL(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("accepted %q as %v", tc.in, u)
				}
				return
			}
			if err != nil || u.String() != tc.want {
				t.Fatalf("apiBaseURL(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
			}
		})
	}
}

func TestRoleValidation(t *testing.T) {
	tests := []struct {
		name    string
		data    map[string]any
		wantErr string
	}{
		{"no names", map[string]any{"bound_service_account_namespaces": "a"}, "bound_service_account_names"},
		{"no namespaces", map[string]any{"bound_service_account_names": "a"}, "bound_service_account_namespaces"},
		{"both star", map[string]any{"bound_service_account_names": "*", "bound_service_account_namespaces": "*"}, "can not both"},
		{"mixed star", map[string]any{"bound_service_account_names": "*,web", "bound_service_account_namespaces": "a"}, "can not mix"},
		{"bad alias source", map[string]any{"bound_service_account_names": "a", "bound_service_account_namespaces": "b",
			"alias_name_source": "pod"}, "alias_name_source"},
		{"batch periodic", map[string]any{"bound_service_account_names": "a", "bound_service_account_namespaces": "b",
			"token_type": "batch", "token_period": "1h"}, "periodic"},
		{"ok", map[string]any{"bound_service_account_names": []any{"web", "api-*"}, "bound_service_account_namespaces": "*",
			"audience": "vault", "token_policies": "b,a", "token_ttl": "1h"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			_, err := e.Do(logical.UpdateOperation, "role/r1", tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if e.Must(logical.ReadOperation, "role/r1", nil) != nil {
					t.Fatal("invalid role stored")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := e.Must(logical.ReadOperation, "role/r1", nil).Data
			if names := d["bound_service_account_names"].([]string); strings.Join(names, ",") != "web,api-*" {
				t.Fatalf("names = %v", names)
			}
			if d["audience"] != "vault" || d["alias_name_source"] != AliasNameSourceUID || d["token_ttl"] != int64(3600) {
				t.Fatalf("role = %v", d)
			}
			if p := d["token_policies"].([]string); strings.Join(p, ",") != "a,b" {
				t.Fatalf("policies = %v", p)
			}
		})
	}
}

func TestRoleLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	if resp := e.Must(logical.ListOperation, "role/", nil); resp != nil {
		t.Fatalf("empty list = %v, want nil (404)", resp)
	}
	base := map[string]any{"bound_service_account_names": "web", "bound_service_account_namespaces": "apps"}
	e.Must(logical.UpdateOperation, "role/b", base)
	e.Must(logical.UpdateOperation, "role/a", base)
	// An update changes only the fields it names.
	e.Must(logical.UpdateOperation, "role/a", map[string]any{"alias_name_source": AliasNameSourceName})
	d := e.Must(logical.ReadOperation, "role/a", nil).Data
	if d["alias_name_source"] != AliasNameSourceName || d["bound_service_account_names"].([]string)[0] != "web" {
		t.Fatalf("after update: %v", d)
	}
	keys := e.Must(logical.ListOperation, "role/", nil).Data["keys"].([]string)
	if strings.Join(keys, ",") != "a,b" {
		t.Fatalf("keys = %v", keys)
	}
	e.Must(logical.DeleteOperation, "role/a", nil)
	if e.Must(logical.ReadOperation, "role/a", nil) != nil {
		t.Fatal("deleted role still readable")
	}
}

func TestParseToken(t *testing.T) {
	s, other := newSigner(t), newSigner(t)
	keys, err := parsePublicKeys([]string{s.pubPEM})
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, _ := parsePublicKeys([]string{other.pubPEM})
	now := time.Now()
	legacy := map[string]any{
		"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "apps",
		"kubernetes.io/serviceaccount/service-account.name": "web",
		"kubernetes.io/serviceaccount/service-account.uid":  "u-1",
		"kubernetes.io/serviceaccount/secret.name":          "web-token-x",
	}
	expired := projectedClaims("apps", "web", "u-1", "vault")
	expired["exp"] = now.Add(-time.Hour).Unix()
	noUID := projectedClaims("apps", "web", "", "vault")
	hs := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"kubernetes.io":{"namespace":"a","serviceaccount":{"name":"b","uid":"c"}}}`)) + ".c2ln"
	none := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"kubernetes.io/serviceaccount/namespace":"a"}`)) + "."
	tests := []struct {
		name     string
		raw      string
		keys     []crypto.PublicKey
		wantErr  bool
		wantName string
		wantSec  string
	}{
		{"projected unverified", s.sign(t, projectedClaims("apps", "web", "u-1", "vault")), nil, false, "web", ""},
		{"projected verified", s.sign(t, projectedClaims("apps", "web", "u-1", "vault")), keys, false, "web", ""},
		{"legacy", s.sign(t, legacy), keys, false, "web", "web-token-x"},
		{"wrong key", s.sign(t, projectedClaims("apps", "web", "u-1")), otherKeys, true, "", ""},
		{"expired", s.sign(t, expired), nil, true, "", ""},
		{"no uid", s.sign(t, noUID), nil, true, "", ""},
		{"hmac", hs, nil, true, "", ""},
		{"alg none", none, nil, true, "", ""},
		{"garbage", "not.a.jwt", nil, true, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseToken(tc.raw, tc.keys, now)
			if tc.wantErr {
				if !errors.Is(err, ErrBadToken) {
					t.Fatalf("err = %v, want ErrBadToken", err)
				}
				if strings.Contains(err.Error(), tc.raw) {
					t.Fatal("error quotes the token")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Namespace != "apps" || c.Name != tc.wantName || c.UID != "u-1" || c.SecretName != tc.wantSec {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestDecodeReview(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr error
		want    reviewResult
	}{
		{"ok", 201, `{"status":{"authenticated":true,"user":{"username":"system:serviceaccount:apps:web","uid":"u-1"},"audiences":["vault"]}}`,
			nil, reviewResult{Namespace: "apps", Name: "web", UID: "u-1", Audiences: []string{"vault"}}},
		{"refused", 201, `{"status":{"authenticated":false,"error":"token has been invalidated"}}`, ErrNotAuthenticated, reviewResult{}},
		{"not a service account", 201, `{"status":{"authenticated":true,"user":{"username":"alice","uid":"u"}}}`, ErrNotAuthenticated, reviewResult{}},
		{"extra colon", 201, `{"status":{"authenticated":true,"user":{"username":"system:serviceaccount:a:b:c","uid":"u"}}}`, ErrNotAuthenticated, reviewResult{}},
		{"no uid", 201, `{"status":{"authenticated":true,"user":{"username":"system:serviceaccount:a:b"}}}`, ErrNotAuthenticated, reviewResult{}},
		{"forbidden", 403, `{"kind":"Status","message":"tokenreviews is forbidden"}`, ErrReview, reviewResult{}},
		{"not json", 200, `<html>`, ErrReview, reviewResult{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeReview(tc.status, []byte(tc.body))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Namespace != tc.want.Namespace || got.Name != tc.want.Name || got.UID != tc.want.UID ||
				strings.Join(got.Audiences, ",") != strings.Join(tc.want.Audiences, ",") {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLoginErrorsWithoutKube(t *testing.T) {
	e := newEnv(t, Options{})
	s := newSigner(t)
	jwtStr := s.sign(t, projectedClaims("apps", "web", "u-1", "vault"))
	e.Must(logical.UpdateOperation, "role/web", map[string]any{"bound_service_account_names": "web",
		"bound_service_account_namespaces": "apps", "audience": "vault", "token_bound_cidrs": "10.0.0.0/8"})
	_, err := e.DoFrom("10.1.1.1", logical.UpdateOperation, "login", map[string]any{"role": "web", "jwt": jwtStr})
	if err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("unconfigured login: %v", err)
	}
	// Nothing listens on port 1: the review fails, and so does the login.
	e.Must(logical.UpdateOperation, "config", map[string]any{"kubernetes_host": "https://127.0.0.1:1"})
	tests := []struct {
		name, addr string
		data       map[string]any
		wantKind   logical.Kind
	}{
		{"missing role", "10.1.1.1", map[string]any{"jwt": jwtStr}, logical.KindInvalidRequest},
		{"missing jwt", "10.1.1.1", map[string]any{"role": "web"}, logical.KindInvalidRequest},
		{"unknown role", "10.1.1.1", map[string]any{"role": "nope", "jwt": jwtStr}, logical.KindInvalidRequest},
		{"outside cidrs", "192.168.1.1", map[string]any{"role": "web", "jwt": jwtStr}, logical.KindPermissionDenied},
		{"not a jwt", "10.1.1.1", map[string]any{"role": "web", "jwt": "secret-garbage"}, logical.KindPermissionDenied},
		{"api server down", "10.1.1.1", map[string]any{"role": "web", "jwt": jwtStr}, logical.KindPermissionDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.DoFrom(tc.addr, logical.UpdateOperation, "login", tc.data)
			if err == nil || logical.KindOf(err) != tc.wantKind {
				t.Fatalf("login = %v, %v; want kind %v", resp, err, tc.wantKind)
			}
			if tc.wantKind == logical.KindPermissionDenied && err.Error() != "permission denied" {
				t.Fatalf("message %q says too much", err)
			}
		})
	}
	if strings.Contains(e.Logs.String(), jwtStr) || strings.Contains(e.Logs.String(), "secret-garbage") {
		t.Fatal("a login token reached the log")
	}
}

func TestSelector(t *testing.T) {
	labels := map[string]string{"team": "a", "tier": "prod"}
	tests := []struct {
		name, sel string
		wantErr   bool
		want      bool
	}{
		{"empty object matches all", `{}`, false, true},
		{"match labels json", `{"matchLabels":{"team":"a"}}`, false, true},
		{"match labels yaml", "matchLabels:\n  team: b\n", false, false},
		{"in", `{"matchExpressions":[{"key":"tier","operator":"In","values":["dev","prod"]}]}`, false, true},
		{"not in", `{"matchExpressions":[{"key":"tier","operator":"NotIn","values":["prod"]}]}`, false, false},
		{"exists", `{"matchExpressions":[{"key":"team","operator":"Exists"}]}`, false, true},
		{"does not exist", `{"matchExpressions":[{"key":"team","operator":"DoesNotExist"}]}`, false, false},
		{"labels and expressions", `{"matchLabels":{"team":"a"},"matchExpressions":[{"key":"x","operator":"DoesNotExist"}]}`, false, true},
		{"unknown field", `{"matchLabel":{"team":"a"}}`, true, false},
		{"unknown operator", `{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}`, true, false},
		{"in without values", `{"matchExpressions":[{"key":"a","operator":"In"}]}`, true, false},
		{"exists with values", `{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}`, true, false},
		{"not an object", `[1,2]`, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := parseSelector(tc.sel)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("accepted %q", tc.sel)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.matches(labels); got != tc.want {
				t.Fatalf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRoleNamespaceSelector(t *testing.T) {
	e := newEnv(t, Options{})
	_, err := e.Do(logical.UpdateOperation, "role/r", map[string]any{"bound_service_account_names": "a",
		"bound_service_account_namespace_selector": `{"matchLabels": [1]}`})
	if err == nil || !strings.Contains(err.Error(), "namespace_selector") {
		t.Fatalf("bad selector: %v", err)
	}
	sel := `{"matchLabels":{"coffer":"yes"}}`
	e.Must(logical.UpdateOperation, "role/r", map[string]any{"bound_service_account_names": "a",
		"bound_service_account_namespace_selector": sel})
	d := e.Must(logical.ReadOperation, "role/r", nil).Data
	if d["bound_service_account_namespace_selector"] != sel || len(d["bound_service_account_namespaces"].([]string)) != 0 {
		t.Fatalf("role = %v", d)
	}
}
