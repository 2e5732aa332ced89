package apiclient

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const testToken = "hvs.s3cr3tT0kenValue"

// wantRequest is what the fake server expects to receive.
type wantRequest struct {
	method, path, query, contentType, body string
	token                                  bool
}

// checkingServer answers every request with status and reply after checking
// it against want; mismatches fail the test.
func checkingServer(t *testing.T, want wantRequest, status int, reply string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != want.method {
			t.Errorf("method = %q, want %q", r.Method, want.method)
		}
		if r.URL.Path != want.path {
			t.Errorf("path = %q, want %q", r.URL.Path, want.path)
		}
		if r.URL.RawQuery != want.query {
			t.Errorf("query = %q, want %q", r.URL.RawQuery, want.query)
		}
		if got := r.Header.Get("Content-Type"); got != want.contentType {
			t.Errorf("content-type = %q, want %q", got, want.contentType)
		}
		if string(body) != want.body {
			t.Errorf("body = %q, want %q", body, want.body)
		}
		gotTok := r.Header.Get("X-Vault-Token")
		if want.token && gotTok != testToken {
			t.Errorf("X-Vault-Token = %q, want the token", gotTok)
		}
		if !want.token && gotTok != "" {
			t.Errorf("X-Vault-Token sent without a configured token: %q", gotTok)
		}
		if r.Header.Get("X-Vault-Request") != "true" {
			t.Errorf("X-Vault-Request header missing")
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newTestClient(t *testing.T, addr, token string) *Client {
	t.Helper()
	c, err := New(Config{Address: addr, Token: token})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestClientWireFormat(t *testing.T) {
	okReply := `{"request_id":"r1","lease_id":"","renewable":false,"lease_duration":0,"data":{"n":12345678901234567890,"s":"v"},"wrap_info":null,"warnings":null,"auth":null}`
	tests := []struct {
		name  string
		token string
		call  func(c *Client) (*Secret, error)
		want  wantRequest
	}{
		{
			name:  "write is a PUT with a JSON body",
			token: testToken,
			call: func(c *Client) (*Secret, error) {
				return c.Write(context.Background(), "secret/data/x", map[string]any{"data": map[string]any{"a": "b"}})
			},
			want: wantRequest{method: "PUT", path: "/v1/secret/data/x", contentType: "application/json", body: `{"data":{"a":"b"}}`, token: true},
		},
		{
			name:  "read is a GET with query and no body",
			token: testToken,
			call: func(c *Client) (*Secret, error) {
				return c.Read(context.Background(), "secret/data/x", url.Values{"version": {"2"}})
			},
			want: wantRequest{method: "GET", path: "/v1/secret/data/x", query: "version=2", token: true},
		},
		{
			name:  "list is a GET with list=true",
			token: testToken,
			call: func(c *Client) (*Secret, error) {
				return c.List(context.Background(), "secret/metadata/")
			},
			want: wantRequest{method: "GET", path: "/v1/secret/metadata/", query: "list=true", token: true},
		},
		{
			name:  "patch uses the merge-patch content type",
			token: testToken,
			call: func(c *Client) (*Secret, error) {
				return c.Patch(context.Background(), "secret/data/x", map[string]any{"data": map[string]any{"a": nil}})
			},
			want: wantRequest{method: "PATCH", path: "/v1/secret/data/x", contentType: "application/merge-patch+json", body: `{"data":{"a":null}}`, token: true},
		},
		{
			name:  "delete sends no body",
			token: testToken,
			call: func(c *Client) (*Secret, error) {
				return c.Delete(context.Background(), "/sys/mounts/kv", nil)
			},
			want: wantRequest{method: "DELETE", path: "/v1/sys/mounts/kv", token: true},
		},
		{
			name: "no token, no header",
			call: func(c *Client) (*Secret, error) {
				return c.Write(context.Background(), "sys/unseal", nil)
			},
			want: wantRequest{method: "PUT", path: "/v1/sys/unseal", contentType: "application/json", body: `{}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := checkingServer(t, tt.want, http.StatusOK, okReply)
			s, err := tt.call(newTestClient(t, srv.URL, tt.token))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if s == nil || s.RequestID != "r1" || s.Data["s"] != "v" {
				t.Fatalf("secret = %+v, want request_id r1 and data.s=v", s)
			}
			if n, ok := s.Data["n"].(json.Number); !ok || n.String() != "12345678901234567890" {
				t.Errorf("data.n = %#v, want json.Number 12345678901234567890", s.Data["n"])
			}
		})
	}
}

func TestClientResponses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		reply      string
		read       bool // use Read (404 tolerant) instead of Write
		wantNil    bool
		wantErr    string
		wantStatus int
	}{
		{name: "204 is a nil secret", status: 204, wantNil: true},
		{name: "404 empty list is nil without error", status: 404, reply: `{"errors":[]}`, read: true, wantNil: true},
		{name: "404 with data is returned", status: 404, reply: `{"data":{"metadata":{"version":1}}}`, read: true},
		{name: "403 is one clear line", status: 403, reply: `{"errors":["permission denied"]}`,
			wantErr: "PUT /v1/secret/data/x: 403 permission denied", wantStatus: 403},
		{name: "several errors are joined", status: 400, reply: `{"errors":["a","b"]}`,
			wantErr: "PUT /v1/secret/data/x: 400 a; b", wantStatus: 400},
		{name: "non-JSON error body uses the status text", status: 502, reply: `<html>bad gateway</html>`,
			wantErr: "PUT /v1/secret/data/x: 502 bad gateway", wantStatus: 502},
		{name: "server echoing the token is redacted", status: 403, reply: `{"errors":["bad token ` + testToken + `"]}`,
			wantErr: "PUT /v1/secret/data/x: 403 bad token [REDACTED]", wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, ctype, body := "PUT", "application/json", `{}`
			if tt.read {
				method, ctype, body = "GET", "", ""
			}
			srv := checkingServer(t, wantRequest{method: method, path: "/v1/secret/data/x", contentType: ctype, body: body, token: true}, tt.status, tt.reply)
			c := newTestClient(t, srv.URL, testToken)
			var s *Secret
			var err error
			if tt.read {
				s, err = c.Read(context.Background(), "secret/data/x", nil)
			} else {
				s, err = c.Write(context.Background(), "secret/data/x", nil)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if !IsStatus(err, tt.wantStatus) {
					t.Errorf("IsStatus(err, %d) = false", tt.wantStatus)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("error contains the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if (s == nil) != tt.wantNil {
				t.Fatalf("secret = %+v, want nil=%t", s, tt.wantNil)
			}
		})
	}
}

func TestClientDoRaw(t *testing.T) {
	srv := checkingServer(t, wantRequest{method: "GET", path: "/v1/sys/seal-status"}, 200,
		`{"type":"shamir","sealed":true,"t":3,"n":5,"progress":1}`)
	var out map[string]any
	if err := newTestClient(t, srv.URL, "").DoRaw(context.Background(), "GET", "sys/seal-status", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	if out["sealed"] != true || out["t"] != json.Number("3") {
		t.Errorf("out = %v, want sealed=true t=3", out)
	}
}

func TestClientTransportErrorsOmitToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newTestClient(t, "http://"+addr, testToken)
	_, err = c.Read(context.Background(), "secret/data/x", nil)
	if err == nil {
		t.Fatal("read from a closed port succeeded")
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error contains the token: %v", err)
	}
	if !strings.Contains(err.Error(), "GET /v1/secret/data/x") {
		t.Errorf("error %q does not name the request", err)
	}
}

func TestClientKeepAlive(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":{}}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, "")
	for range 5 {
		if _, err := c.Read(context.Background(), "x", nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 sequential requests opened %d connections, want 1", n)
	}
}

func TestClientTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":{"ok":true}}`)
	}))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	badCA := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(badCA, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		cfg        Config
		wantNewErr error
		wantOK     bool
	}{
		{name: "trusted CA", cfg: Config{CACert: caFile}, wantOK: true},
		{name: "unknown CA is rejected", cfg: Config{}},
		{name: "skip verify", cfg: Config{TLSSkipVerify: true}, wantOK: true},
		{name: "CA file without PEM", cfg: Config{CACert: badCA}, wantNewErr: ErrInvalidTLS},
		{name: "cert without key", cfg: Config{ClientCert: caFile}, wantNewErr: ErrInvalidTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Address = srv.URL
			c, err := New(tt.cfg)
			if tt.wantNewErr != nil {
				if !errors.Is(err, tt.wantNewErr) {
					t.Fatalf("New err = %v, want %v", err, tt.wantNewErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Read(context.Background(), "x", nil)
			if (err == nil) != tt.wantOK {
				t.Fatalf("read err = %v, want ok=%t", err, tt.wantOK)
			}
		})
	}
}

func TestNewRejectsBadAddress(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8200", "ftp://x", "http://", "::"} {
		t.Run(addr, func(t *testing.T) {
			if _, err := New(Config{Address: addr}); !errors.Is(err, ErrInvalidAddress) {
				t.Errorf("New(%q) err = %v, want ErrInvalidAddress", addr, err)
			}
		})
	}
}

func TestWithTokenSharesTransport(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", "a")
	d := c.WithToken("b")
	if c.Token() != "a" || d.Token() != "b" {
		t.Errorf("tokens = %q, %q; want a, b", c.Token(), d.Token())
	}
	if c.http != d.http {
		t.Error("WithToken built a new http.Client; want the shared one")
	}
}
