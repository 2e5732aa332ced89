package compat

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestHTTPConventions(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	root := in.RootToken
	put := rawDo(t, in, "POST", "/v1/secret/data/conv", root, strings.NewReader(`{"data":{"a":"1"}}`))
	if put.StatusCode != 200 || !strings.Contains(put.Body, `"request_id"`) || !strings.Contains(put.Body, `"lease_duration"`) {
		t.Fatalf("write = %d %s", put.StatusCode, put.Body)
	}

	tests := []struct {
		name, method, path, token, body string
		want                            int
		wantBody                        string
	}{
		{"no token", "GET", "/v1/secret/data/conv", "", "", 403, `{"errors":["permission denied"]}`},
		{"bad token", "GET", "/v1/secret/data/conv", "hvs.AAAAAAAAAAAAAAAAAAAAAAAA", "", 403, "permission denied"},
		{"missing secret", "GET", "/v1/secret/data/nope", root, "", 404, `{"errors":[]}`},
		{"empty list via LIST", "LIST", "/v1/secret/metadata/nothing-here", root, "", 404, `{"errors":[]}`},
		{"empty list via ?list=true", "GET", "/v1/secret/metadata/nothing-here?list=true", root, "", 404, `{"errors":[]}`},
		{"list via LIST", "LIST", "/v1/secret/metadata/", root, "", 200, `"keys":["conv"]`},
		{"list via ?list=true", "GET", "/v1/secret/metadata?list=true", root, "", 200, `"keys":["conv"]`},
		{"no mount", "GET", "/v1/nomount/x", root, "", 404, "no handler for route"},
		{"malformed JSON", "POST", "/v1/secret/data/conv", root, `{"data":`, 400, "malformed JSON"},
		{"JSON array body", "POST", "/v1/secret/data/conv", root, `[1,2]`, 400, "must be a JSON object"},
		{"trailing data", "POST", "/v1/secret/data/conv", root, `{"data":{}} {}`, 400, "unexpected data"},
		{"bad method", "TRACE", "/v1/secret/data/conv", root, "", 405, ""},
		{"no /v1", "GET", "/secret/data/conv", root, "", 404, ""},
		{"wrong type", "POST", "/v1/sys/mounts/typed", root, `{"type": 5}`, 400, "type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			var resp rawResponse
			if body != nil {
				resp = rawDo(t, in, tc.method, tc.path, tc.token, body)
			} else {
				resp = rawDo(t, in, tc.method, tc.path, tc.token, nil)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s = %d %s; want %d", tc.method, tc.path, resp.StatusCode, resp.Body, tc.want)
			}
			if tc.wantBody != "" && !strings.Contains(resp.Body, tc.wantBody) {
				t.Fatalf("body = %s; want it to contain %s", resp.Body, tc.wantBody)
			}
		})
	}
}

func TestBearerTokenAndSizeLimit(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", in.URL()+"/v1/auth/token/lookup-self", nil)
	req.Header.Set("Authorization", "Bearer "+in.RootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("bearer token lookup-self = %d", resp.StatusCode)
	}
	big := `{"data":{"v":"` + strings.Repeat("x", 33<<20) + `"}}`
	r := rawDo(t, in, "POST", "/v1/secret/data/big", in.RootToken, strings.NewReader(big))
	if r.StatusCode != 413 {
		t.Fatalf("33 MiB body = %d; want 413", r.StatusCode)
	}
	if got := rawDo(t, in, "GET", "/v1/secret/data/big", in.RootToken, nil); got.StatusCode != 404 {
		t.Fatalf("oversized write left data behind: %d", got.StatusCode)
	}
}
