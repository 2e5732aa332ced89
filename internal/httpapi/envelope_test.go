package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// refEnvelope is Vault's response body as encoding/json writes it: the
// reference appendEnvelope must match byte for byte.
type refEnvelope struct {
	RequestID     string         `json:"request_id"`
	LeaseID       string         `json:"lease_id"`
	Renewable     bool           `json:"renewable"`
	LeaseDuration int64          `json:"lease_duration"`
	Data          map[string]any `json:"data"`
	WrapInfo      *refWrapInfo   `json:"wrap_info"`
	Warnings      []string       `json:"warnings"`
	Auth          *refAuth       `json:"auth"`
	MountType     string         `json:"mount_type"`
}

type refAuth struct {
	ClientToken      string            `json:"client_token"`
	Accessor         string            `json:"accessor"`
	Policies         []string          `json:"policies"`
	TokenPolicies    []string          `json:"token_policies"`
	IdentityPolicies []string          `json:"identity_policies,omitempty"`
	Metadata         map[string]string `json:"metadata"`
	LeaseDuration    int64             `json:"lease_duration"`
	Renewable        bool              `json:"renewable"`
	EntityID         string            `json:"entity_id"`
	TokenType        string            `json:"token_type"`
	Orphan           bool              `json:"orphan"`
	MFARequirement   any               `json:"mfa_requirement"`
	NumUses          int               `json:"num_uses"`
}

type refWrapInfo struct {
	Token           string `json:"token"`
	Accessor        string `json:"accessor"`
	TTL             int64  `json:"ttl"`
	CreationTime    string `json:"creation_time"`
	CreationPath    string `json:"creation_path"`
	WrappedAccessor string `json:"wrapped_accessor,omitempty"`
}

func refMarshal(t *testing.T, requestID string, resp *logical.Response) []byte {
	t.Helper()
	env := refEnvelope{RequestID: requestID, Data: resp.Data, Warnings: resp.Warnings}
	if s := resp.Secret; s != nil {
		env.LeaseID, env.Renewable, env.LeaseDuration = s.LeaseID, s.Renewable, seconds(s.TTL)
	}
	if a := resp.Auth; a != nil {
		env.Auth = &refAuth{ClientToken: a.ClientToken, Accessor: a.Accessor, Policies: a.Policies,
			TokenPolicies: a.TokenPolicies, IdentityPolicies: a.IdentityPolicies, Metadata: a.Metadata,
			LeaseDuration: seconds(a.TTL), Renewable: a.Renewable, EntityID: a.EntityID,
			TokenType: a.TokenType, Orphan: a.Orphan, NumUses: a.NumUses}
	}
	if wi := resp.WrapInfo; wi != nil {
		env.Data = nil
		env.WrapInfo = &refWrapInfo{Token: wi.Token, Accessor: wi.Accessor, TTL: seconds(wi.TTL),
			CreationTime: wi.CreationTime.Format(time.RFC3339Nano), CreationPath: wi.CreationPath,
			WrappedAccessor: wi.WrappedAccessor}
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendEnvelopeMatchesMarshal(t *testing.T) {
	kvData := map[string]any{"data": map[string]any{"password": "x<&>"}, "metadata": map[string]any{
		"created_time": "2026-11-24T01:00:00.123Z", "custom_metadata": nil, "deletion_time": "", "destroyed": false,
		"version": 3, "n": json.Number("1.50"), "f": 2.5}}
	created := time.Date(2026, 11, 24, 1, 2, 3, 456, time.FixedZone("x", 3600))
	cases := map[string]*logical.Response{
		"kv read":                 {Data: kvData},
		"no data":                 {Warnings: []string{"careful"}},
		"lease":                   {Data: map[string]any{"username": "u"}, Secret: &logical.Secret{LeaseID: "db/creds/r/abc", Renewable: true, TTL: 90 * time.Second}},
		"login":                   {Auth: &logical.Auth{ClientToken: "hvs.x", Accessor: "acc", Policies: []string{"default", "p"}, TokenPolicies: []string{"p"}, Metadata: map[string]string{"b": "1", "a": "<2>"}, TTL: time.Hour, Renewable: true, EntityID: "e", TokenType: "service", Orphan: true, NumUses: 3}},
		"login identity policies": {Auth: &logical.Auth{ClientToken: "hvs.y", IdentityPolicies: []string{"ip"}}},
		"wrapped": {Data: kvData, WrapInfo: &logical.WrapInfo{Token: "hvs.w", Accessor: "wa", TTL: time.Minute,
			CreationTime: created, CreationPath: "secret/data/x", WrappedAccessor: "inner"}},
		"wrapped without accessor": {WrapInfo: &logical.WrapInfo{Token: "hvs.w", CreationTime: created}},
		"empty data":               {Data: map[string]any{}},
		"list":                     {Data: map[string]any{"keys": []string{"a", "b/"}}},
	}
	for name, resp := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := appendEnvelope(nil, "req-1", resp)
			if err != nil {
				t.Fatal(err)
			}
			if want := refMarshal(t, "req-1", resp); !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestWriteResponse(t *testing.T) {
	tests := []struct {
		name       string
		resp       *logical.Response
		wantStatus int
		wantBody   string
	}{
		{"not found", nil, http.StatusNotFound, "{\"errors\":[]}\n"},
		{"no content", &logical.Response{NoContent: true}, http.StatusNoContent, ""},
		{"unencodable data", &logical.Response{Data: map[string]any{"c": make(chan int)}}, http.StatusInternalServerError,
			"{\"errors\":[\"failed to encode response\"]}\n"},
		{"partial failure", &logical.Response{Data: map[string]any{"k": "v"}, PartialFailure: true}, http.StatusBadRequest,
			`{"request_id":"id","lease_id":"","renewable":false,"lease_duration":0,"data":{"k":"v"},"wrap_info":null,"warnings":null,"auth":null,"mount_type":""}` + "\n"},
		{"resp not found", &logical.Response{NotFound: true}, http.StatusNotFound,
			`{"request_id":"id","lease_id":"","renewable":false,"lease_duration":0,"data":null,"wrap_info":null,"warnings":null,"auth":null,"mount_type":""}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeResponse(rec, "id", tc.resp)
			if rec.Code != tc.wantStatus || rec.Body.String() != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
			}
			if tc.wantStatus != http.StatusNoContent && (rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store") {
				t.Errorf("headers %v", rec.Header())
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		msgs []string
		want string
	}{
		"none":    {nil, "{\"errors\":[]}\n"},
		"escaped": {[]string{"bad <input>", "two"}, "{\"errors\":[\"bad \\u003cinput\\u003e\",\"two\"]}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeErrors(rec, http.StatusBadRequest, tc.msgs...)
			if rec.Code != http.StatusBadRequest || rec.Body.String() != tc.want {
				t.Errorf("got %d %q, want %q", rec.Code, rec.Body.String(), tc.want)
			}
		})
	}
}
