package bench_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/apiclient"
	"github.com/cofferdev/coffer/internal/bench"
)

// fakeAuth is a minimal Vault with the AppRole, userpass and transit API
// paths the login and transit workloads use, so the workloads are also
// checked against a server other than Coffer (the tool speaks to any
// Vault-API server). logins counts successful logins and encryptions.
type fakeAuth struct {
	mu       sync.Mutex
	enabled  map[string]string // auth path → type
	password string
	logins   int
	bad      int
}

func (f *fakeAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/v1/")
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	write := r.Method == http.MethodPut || r.Method == http.MethodPost
	switch {
	case strings.HasPrefix(p, "sys/auth/") && write:
		f.enabled[strings.TrimPrefix(p, "sys/auth/")] = body["type"].(string)
	case strings.HasPrefix(p, "sys/auth/") && r.Method == http.MethodDelete:
		delete(f.enabled, strings.TrimPrefix(p, "sys/auth/"))
	case strings.HasPrefix(p, "sys/mounts/") && write:
		f.enabled[strings.TrimPrefix(p, "sys/mounts/")] = body["type"].(string)
	case strings.HasPrefix(p, "sys/mounts/") && r.Method == http.MethodDelete:
		delete(f.enabled, strings.TrimPrefix(p, "sys/mounts/"))
	case strings.HasSuffix(p, "/keys/bench"):
	case strings.HasSuffix(p, "/encrypt/bench"):
		f.encrypt(w, r, body)
	case strings.HasSuffix(p, "/role/bench/role-id"):
		_, _ = w.Write([]byte(`{"data":{"role_id":"rid"}}`))
	case strings.HasSuffix(p, "/role/bench/secret-id"):
		_, _ = w.Write([]byte(`{"data":{"secret_id":"sid"}}`))
	case strings.HasSuffix(p, "/role/bench"), strings.HasSuffix(p, "/users/bench"):
		if pw, ok := body["password"].(string); ok {
			f.password = pw
		}
		if body["token_type"] != "batch" {
			http.Error(w, `{"errors":["want batch tokens"]}`, http.StatusBadRequest)
		}
	case strings.HasSuffix(p, "/login") || strings.HasSuffix(p, "/login/bench"):
		f.login(w, r, body)
	default:
		http.Error(w, `{"errors":["unsupported path"]}`, http.StatusNotFound)
	}
}

// encrypt accepts base64 plaintext from a token holder.
func (f *fakeAuth) encrypt(w http.ResponseWriter, r *http.Request, body map[string]any) {
	pt, _ := body["plaintext"].(string)
	if _, err := base64.StdEncoding.DecodeString(pt); err != nil || pt == "" || r.Header.Get("X-Vault-Token") == "" {
		f.bad++
		http.Error(w, `{"errors":["bad encrypt request"]}`, http.StatusBadRequest)
		return
	}
	f.logins++
	_, _ = w.Write([]byte(`{"data":{"ciphertext":"vault:v1:abc"}}`))
}

// login accepts the AppRole IDs or the user's password, sent without a token.
func (f *fakeAuth) login(w http.ResponseWriter, r *http.Request, body map[string]any) {
	ok := r.Header.Get("X-Vault-Token") == "" &&
		((body["role_id"] == "rid" && body["secret_id"] == "sid") || (f.password != "" && body["password"] == f.password))
	if !ok {
		f.bad++
		http.Error(w, `{"errors":["invalid credentials"]}`, http.StatusBadRequest)
		return
	}
	f.logins++
	_, _ = w.Write([]byte(`{"auth":{"client_token":"hvb.fake","token_type":"batch"}}`))
}

func TestFakeOnlyWorkloads(t *testing.T) {
	for _, name := range []string{"login-approle", "login-userpass", "transit-encrypt"} {
		t.Run(name, func(t *testing.T) {
			f := &fakeAuth{enabled: map[string]string{}}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			cfg := apiclient.Config{Address: srv.URL, Token: "root"}
			api, err := apiclient.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tg, err := bench.NewTarget(cfg, 2)
			if err != nil {
				t.Fatal(err)
			}
			w, err := bench.NewWorkload(name, bench.DefaultParams())
			if err != nil {
				t.Fatal(err)
			}
			res, err := bench.RunWorkload(context.Background(), api, tg, w, quick(2))
			if err != nil {
				t.Fatal(err)
			}
			reqs, errs := total(res)
			f.mu.Lock()
			defer f.mu.Unlock()
			if errs != 0 || f.bad != 0 {
				t.Errorf("errors = %d, rejected logins = %d (%s)", errs, f.bad, res[0].FirstError)
			}
			if reqs == 0 || reqs != uint64(f.logins) {
				t.Errorf("tool reports %d requests, server served %d", reqs, f.logins)
			}
			if len(f.enabled) != 0 {
				t.Errorf("mounts left enabled: %v", f.enabled)
			}
		})
	}
}
