package cluster

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/seal"
)

// validChallengeBody is a challenge response as the leader serves it.
func validChallengeBody(t testing.TB) []byte {
	t.Helper()
	c := NewChallenges()
	sealed, err := c.New("node-2", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	r := ChallengeResponse{Challenge: sealed, SealRecord: []byte("rec"),
		SealConfig: seal.Config{Type: "shamir", SecretShares: 5, SecretThreshold: 3}}
	b, err := json.Marshal(map[string]any{"request_id": "r", "lease_id": "", "data": r.Data(), "warnings": nil})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validAnswerBody is an answer response as the leader serves it.
func validAnswerBody(t testing.TB) []byte {
	t.Helper()
	ca := newTestCA(t)
	f := issue(t, ca, "node-2")
	r := AnswerResponse{CACertPEM: ca.CertPEM, NodeCertPEM: f.CertPEM, Peers: []Peer{{ID: "node-1", Address: "a:8201"}}}
	b, err := json.Marshal(map[string]any{"data": r.Data()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit decodes body, lets change modify its data and encodes it again.
func edit(t *testing.T, body []byte, change func(data map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	change(env["data"].(map[string]any))
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseChallengeResponse(t *testing.T) {
	good := validChallengeBody(t)
	tests := []struct {
		name string
		body []byte
		want string // "" for success, else part of the error
	}{
		{"valid", good, ""},
		{"no challenge", edit(t, good, func(d map[string]any) { delete(d, "challenge") }), "challenge missing"},
		{"short challenge", edit(t, good, func(d map[string]any) { d["challenge"] = "AAAA" }), "challenge is 3 bytes"},
		{"challenge not base64", edit(t, good, func(d map[string]any) { d["challenge"] = "!!" }), "illegal base64"},
		{"no seal config", edit(t, good, func(d map[string]any) { delete(d, "seal_config") }), "seal_config missing"},
		{"invalid seal config", edit(t, good, func(d map[string]any) { d["seal_config"] = map[string]any{"type": "shamir"} }), "secret_shares"},
		{"no seal record", edit(t, good, func(d map[string]any) { delete(d, "seal_record") }), "seal_record missing"},
		{"empty seal record", edit(t, good, func(d map[string]any) { d["seal_record"] = "" }), "seal_record missing"},
		{"unknown field", edit(t, good, func(d map[string]any) { d["nonce"] = "x" }), `unknown field "nonce"`},
		{"wrong type", edit(t, good, func(d map[string]any) { d["seal_config"] = "shamir" }), "cannot unmarshal"},
		{"null data", []byte(`{"data":null}`), "no data"},
		{"top-level fields only", []byte(`{"challenge":"AAAA"}`), "no data"},
		{"not json", []byte(`{"data":`), "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallengeResponse(tt.body)
			if tt.want == "" {
				if err != nil || len(got.Challenge) != sealedChallengeSize || got.SealConfig.SecretShares != 5 || string(got.SealRecord) != "rec" {
					t.Fatalf("ParseChallengeResponse = %+v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrLeaderResponse) || !strings.Contains(err.Error(), tt.want) || got != nil {
				t.Errorf("err = %v, want ErrLeaderResponse saying %q", err, tt.want)
			}
		})
	}
}

func TestParseAnswerResponse(t *testing.T) {
	good := validAnswerBody(t)
	otherCA := newTestCA(t)
	leafPEM := issue(t, otherCA, "x").CertPEM
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"valid", good, ""},
		{"no ca", edit(t, good, func(d map[string]any) { delete(d, "ca_cert") }), "required"},
		{"no node cert", edit(t, good, func(d map[string]any) { delete(d, "node_cert") }), "required"},
		{"ca not pem", edit(t, good, func(d map[string]any) { d["ca_cert"] = "x" }), "ca_cert: not a PEM certificate"},
		{"ca is a leaf", edit(t, good, func(d map[string]any) { d["ca_cert"] = string(leafPEM) }), "not a CA"},
		{"node cert of another CA", edit(t, good, func(d map[string]any) { d["node_cert"] = string(leafPEM) }), "not signed by ca_cert"},
		{"two certs", edit(t, good, func(d map[string]any) { d["node_cert"] = d["node_cert"].(string) + string(leafPEM) }), "data after"},
		{"no peers", edit(t, good, func(d map[string]any) { d["peers"] = []any{} }), "peers missing"},
		{"peer without address", edit(t, good, func(d map[string]any) { d["peers"] = []any{map[string]any{"id": "n"}} }), "peers[0]"},
		{"peer unknown field", edit(t, good, func(d map[string]any) {
			d["peers"] = []any{map[string]any{"id": "n", "address": "a", "voter": true}}
		}), `unknown field "voter"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAnswerResponse(tt.body)
			if tt.want == "" {
				if err != nil || len(got.Peers) != 1 || !bytes.Contains(got.NodeCertPEM, []byte("CERTIFICATE")) {
					t.Fatalf("ParseAnswerResponse = %+v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrLeaderResponse) || !strings.Contains(err.Error(), tt.want) || got != nil {
				t.Errorf("err = %v, want ErrLeaderResponse saying %q", err, tt.want)
			}
		})
	}
}

func TestDecodeAnswerRequest(t *testing.T) {
	answer := bytes.Repeat([]byte{1}, ChallengeSize)
	good := AnswerRequest{ServerID: "node-2", Answer: answer, ClusterAddr: "10.0.0.2:8201", CSR: []byte{0x30}}
	with := func(k string, v any) map[string]any {
		d := good.Data()
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
		return d
	}
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"valid", good.Data(), ""},
		{"no server id", with("server_id", nil), "server_id: required"},
		{"bad server id", with("server_id", "a b"), "invalid node id"},
		{"number answer", with("answer", 12), "answer: required"},
		{"short answer", with("answer", base64.StdEncoding.EncodeToString(answer[:31])), "want 32 bytes"},
		{"answer not base64", with("answer", "%%"), "want 32 bytes"},
		{"csr not base64", with("csr", "%%"), "csr: not base64"},
		{"no cluster addr", with("cluster_addr", ""), "cluster_addr: required"},
		{"cluster addr without port", with("cluster_addr", "10.0.0.2"), "cluster_addr"},
		{"api addr", with("api_addr", "https://10.0.0.2:8200"), ""},
		{"api addr not a URL", with("api_addr", "10.0.0.2:8200"), "api_addr: not an http(s) URL"},
		{"api addr not a string", with("api_addr", 8200), "api_addr: not a string"},
		{"non voter", with("non_voter", true), ""},
		{"non voter not a boolean", with("non_voter", "yes"), "non_voter: not a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeAnswerRequest(tt.data)
			if tt.want == "" {
				if err != nil || got.ServerID != good.ServerID || !bytes.Equal(got.Answer, answer) || got.ClusterAddr != good.ClusterAddr || !bytes.Equal(got.CSR, good.CSR) {
					t.Fatalf("DecodeAnswerRequest = %v, %v", got, err)
				}
				if got.NonVoter != (tt.data["non_voter"] == true) {
					t.Fatalf("NonVoter = %v for %v", got.NonVoter, tt.data["non_voter"])
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// FuzzParseChallengeResponse: leader responses are outside input. Whatever
// parses has every field set and a valid seal configuration.
func FuzzParseChallengeResponse(f *testing.F) {
	f.Add(validChallengeBody(f))
	f.Add([]byte(`{"data":{"challenge":"","seal_config":{},"seal_record":""}}`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseChallengeResponse(body)
		if err != nil {
			if !errors.Is(err, ErrLeaderResponse) {
				t.Fatalf("error %v is not ErrLeaderResponse", err)
			}
			return
		}
		if len(r.Challenge) != sealedChallengeSize || len(r.SealRecord) == 0 || r.SealConfig.Validate() != nil {
			t.Fatalf("accepted an incomplete response: %+v", r)
		}
	})
}

// FuzzParseAnswerResponse: whatever parses has a CA that signed the node
// certificate, and peers with IDs and addresses.
func FuzzParseAnswerResponse(f *testing.F) {
	f.Add(validAnswerBody(f))
	f.Add([]byte(`{"data":{"ca_cert":"","node_cert":"","peers":[{"id":"a","address":"b"}]}}`))
	f.Add([]byte(`{"data":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseAnswerResponse(body)
		if err != nil {
			if !errors.Is(err, ErrLeaderResponse) {
				t.Fatalf("error %v is not ErrLeaderResponse", err)
			}
			return
		}
		ca, err1 := parseCertPEM(r.CACertPEM)
		leaf, err2 := parseCertPEM(r.NodeCertPEM)
		if err1 != nil || err2 != nil || leaf.CheckSignatureFrom(ca) != nil || len(r.Peers) == 0 {
			t.Fatalf("accepted an invalid response: %v %v", err1, err2)
		}
	})
}

// FuzzDecodeAnswerRequest: the answer endpoint is unauthenticated. Whatever
// decodes has a valid server ID, a full-size answer and a host:port.
func FuzzDecodeAnswerRequest(f *testing.F) {
	good := AnswerRequest{ServerID: "node-2", Answer: make([]byte, ChallengeSize), ClusterAddr: "h:1", CSR: []byte{1}}
	b, _ := json.Marshal(good.Data())
	f.Add(b)
	f.Add([]byte(`{"server_id":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var data map[string]any
		if json.Unmarshal(body, &data) != nil {
			return
		}
		r, err := DecodeAnswerRequest(data)
		if err != nil {
			return
		}
		if ValidateNodeID(r.ServerID) != nil || len(r.Answer) != ChallengeSize || r.ClusterAddr == "" {
			t.Fatalf("accepted %v", r)
		}
	})
}
