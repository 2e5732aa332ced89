package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/seal"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/raft"
)

// testLeader is the leader side of the join, as the core would serve it
// through the normal pipeline: Vault envelopes around Data().
type testLeader struct {
	t          *testing.T
	root       []byte
	ca         *raft.CA
	challenges *Challenges
	record     []byte
	joined     []AnswerRequest
}

func newTestLeader(t *testing.T) *testLeader {
	ca, _, err := LoadOrCreateCA(context.Background(), inmem.New())
	if err != nil {
		t.Fatal(err)
	}
	return &testLeader{t: t, root: randomKey(t), ca: ca, challenges: NewChallenges(), record: []byte("wrapped-root-key")}
}

func (l *testLeader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Method != http.MethodPost {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{"bad request"}})
		return
	}
	switch r.URL.Path {
	case challengePath:
		id, _ := body["server_id"].(string)
		sealed, err := l.challenges.New(id, l.root)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{err.Error()}})
			return
		}
		resp := ChallengeResponse{Challenge: sealed, SealRecord: l.record,
			SealConfig: seal.Config{Type: "shamir", SecretShares: 3, SecretThreshold: 2}}
		writeJSON(w, http.StatusOK, map[string]any{"request_id": "r1", "data": resp.Data()})
	case answerPath:
		l.answer(w, body)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
	}
}

func (l *testLeader) answer(w http.ResponseWriter, body map[string]any) {
	req, err := DecodeAnswerRequest(body)
	if err == nil {
		err = l.challenges.Check(req.ServerID, req.Answer)
	}
	var cert []byte
	if err == nil {
		cert, err = SignCSR(l.ca, req.CSR, req.ServerID, nil)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{err.Error()}})
		return
	}
	l.joined = append(l.joined, req)
	resp := AnswerResponse{CACertPEM: l.ca.CertPEM, NodeCertPEM: cert,
		Peers: []Peer{{ID: "node-1", Address: "10.0.0.1:8201"}, {ID: req.ServerID, Address: req.ClusterAddr}}}
	writeJSON(w, http.StatusOK, map[string]any{"data": resp.Data()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// serverCAPEM is the PEM of an httptest TLS server's certificate.
func serverCAPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// join runs the joining node's side against l.
func join(ctx context.Context, l Leader, root []byte, id string) (*ChallengeResponse, *AnswerResponse, []byte, error) {
	ch, err := FetchChallenge(ctx, l, id)
	if err != nil {
		return nil, nil, nil, err
	}
	answer, err := OpenChallenge(ch.Challenge, root, id)
	if err != nil {
		return nil, nil, nil, err
	}
	csr, key, err := NewCSR(id)
	if err != nil {
		return nil, nil, nil, err
	}
	resp, err := SendAnswer(ctx, l, AnswerRequest{ServerID: id, Answer: answer, ClusterAddr: "10.0.0.2:8201", CSR: csr})
	return ch, resp, key, err
}

func TestJoinOverHTTPS(t *testing.T) {
	ctx := context.Background()
	leader := newTestLeader(t)
	srv := httptest.NewUnstartedServer(leader)
	// The leader's listener asks for client certificates from the cluster
	// CA, as a listener with tls_require_and_verify_client_cert would.
	clientPool := x509.NewCertPool()
	clientPool.AddCert(leader.ca.Cert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := issue(t, leader.ca, "operator")
	l := Leader{APIAddr: srv.URL, CACertPEM: serverCAPEM(srv), ClientCertPEM: client.CertPEM, ClientKeyPEM: client.KeyPEM}

	ch, resp, key, err := join(ctx, l, leader.root, "node-2")
	if err != nil {
		t.Fatal(err)
	}
	if ch.SealConfig != (seal.Config{Type: "shamir", SecretShares: 3, SecretThreshold: 2}) || string(ch.SealRecord) != "wrapped-root-key" {
		t.Errorf("challenge response = %+v / %q", ch.SealConfig, ch.SealRecord)
	}
	if len(resp.Peers) != 2 || resp.Peers[1] != (Peer{ID: "node-2", Address: "10.0.0.2:8201"}) {
		t.Errorf("peers = %+v", resp.Peers)
	}
	if len(leader.joined) != 1 || leader.joined[0].ClusterAddr != "10.0.0.2:8201" {
		t.Errorf("leader saw %v", leader.joined)
	}
	files := NodeFiles{CACertPEM: resp.CACertPEM, CertPEM: resp.NodeCertPEM, KeyPEM: key}
	dir := t.TempDir()
	if err := SaveNodeFiles(dir, files); err != nil {
		t.Fatalf("the identity from the leader does not save: %v", err)
	}

	// Without the client certificate the leader's listener refuses.
	l.ClientCertPEM, l.ClientKeyPEM = nil, nil
	if _, err := FetchChallenge(ctx, l, "node-3"); err == nil {
		t.Error("FetchChallenge without a client certificate succeeded")
	}
}

func TestJoinRefused(t *testing.T) {
	ctx := context.Background()
	leader := newTestLeader(t)
	srv := httptest.NewTLSServer(leader)
	t.Cleanup(srv.Close)
	l := Leader{APIAddr: srv.URL, CACertPEM: serverCAPEM(srv)}

	// A node that does not hold the root key cannot open the challenge.
	if _, _, _, err := join(ctx, l, randomKey(t), "node-2"); !errors.Is(err, ErrChallenge) {
		t.Errorf("join with another root key: %v, want ErrChallenge", err)
	}
	// A wrong answer comes back as the leader's error.
	if _, err := FetchChallenge(ctx, l, "node-4"); err != nil {
		t.Fatal(err)
	}
	csr, _, _ := NewCSR("node-4")
	_, err := SendAnswer(ctx, l, AnswerRequest{ServerID: "node-4", Answer: make([]byte, ChallengeSize), ClusterAddr: "h:1", CSR: csr})
	var le *LeaderError
	if !errors.As(err, &le) || le.Status != http.StatusBadRequest || !strings.Contains(le.Error(), "wrong or expired") {
		t.Errorf("SendAnswer(wrong answer) = %v, want a 400 LeaderError", err)
	}
	// A leader whose certificate is not trusted is not talked to.
	if _, err := FetchChallenge(ctx, Leader{APIAddr: srv.URL}, "node-5"); err == nil {
		t.Error("FetchChallenge trusted an unknown certificate")
	}
	if len(leader.joined) != 0 {
		t.Errorf("leader admitted %v", leader.joined)
	}
}

func TestClientRequests(t *testing.T) {
	ctx := context.Background()
	var got []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		http.Redirect(w, r, "https://elsewhere.invalid/", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	l := Leader{APIAddr: srv.URL + "/", CACertPEM: serverCAPEM(srv)}
	_, err := FetchChallenge(ctx, l, "node-2")
	var le *LeaderError
	if !errors.As(err, &le) || le.Status != http.StatusTemporaryRedirect {
		t.Errorf("FetchChallenge against a redirect = %v, want a 307 LeaderError (not followed)", err)
	}
	csr := []byte{1, 2, 3}
	SendAnswer(ctx, l, AnswerRequest{ServerID: "node-2", Answer: []byte{9}, ClusterAddr: "10.0.0.2:8201", CSR: csr})
	want := []string{
		`POST /v1/sys/storage/raft/bootstrap/challenge application/json {"server_id":"node-2"}`,
		`POST /v1/sys/storage/raft/bootstrap/answer application/json {"answer":"CQ==","cluster_addr":"10.0.0.2:8201","csr":"AQID","server_id":"node-2"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		status  int
		body    string
		leader  func(l Leader) Leader
		want    error
		message string
	}{
		{name: "vault error envelope", status: 503, body: `{"errors":["Vault is sealed"]}`, message: "answered 503: Vault is sealed"},
		{name: "error without envelope", status: 500, body: `oops`, message: "answered 500"},
		{name: "no data", status: 200, body: `{"request_id":"x"}`, want: ErrLeaderResponse},
		{name: "not json", status: 200, body: `<html>`, want: ErrLeaderResponse},
		{name: "too large", status: 200, body: `{"data":"` + strings.Repeat("a", maxResponseSize) + `"}`, want: ErrLeaderResponse},
		{name: "bad address", leader: func(l Leader) Leader { l.APIAddr = "ftp://x"; return l }, message: "not an http(s) URL"},
		{name: "bad CA", leader: func(l Leader) Leader { l.CACertPEM = []byte("x"); return l }, message: "no PEM certificate"},
		{name: "half client cert", leader: func(l Leader) Leader { l.ClientCertPEM = []byte("x"); return l }, message: "together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			l := Leader{APIAddr: srv.URL, CACertPEM: serverCAPEM(srv)}
			if tt.leader != nil {
				l = tt.leader(l)
			}
			_, err := FetchChallenge(ctx, l, "node-2")
			if err == nil {
				t.Fatal("FetchChallenge succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %v, want it to say %q", err, tt.message)
			}
		})
	}
}

func TestLeaderRedacted(t *testing.T) {
	l := Leader{APIAddr: "https://n1:8200", ClientKeyPEM: []byte("SECRET-KEY")}
	for _, out := range []string{l.String(), l.GoString(), l.LogValue().String()} {
		if strings.Contains(out, "SECRET") || !strings.Contains(out, "n1:8200") {
			t.Errorf("Leader prints as %q", out)
		}
	}
	r := AnswerRequest{ServerID: "n2", Answer: []byte("SECRET")}
	if s := r.String(); strings.Contains(s, base64.StdEncoding.EncodeToString(r.Answer)) || strings.Contains(s, "SECRET") {
		t.Errorf("AnswerRequest prints as %q", s)
	}
}
