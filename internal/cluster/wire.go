package cluster

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/cofferdev/coffer/internal/seal"
)

// The bodies of the two bootstrap endpoints, as the leader serves them
// inside Vault's envelope ({"data": {...}}). Byte fields travel as standard
// base64; certificates as PEM text.

// ChallengeResponse is what POST sys/storage/raft/bootstrap/challenge
// returns: the sealed challenge, the cluster's seal configuration and the
// seal's record of the wrapped root key, which the joining node needs to
// turn unseal-key shares (or its auto seal) into the root key.
type ChallengeResponse struct {
	Challenge  []byte
	SealConfig seal.Config
	SealRecord []byte
}

// String hides the seal record.
func (ChallengeResponse) String() string { return "[REDACTED]" }

// LogValue hides the seal record from slog.
func (ChallengeResponse) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Data is the response's "data" object, for the leader to serve.
func (r ChallengeResponse) Data() map[string]any {
	return map[string]any{
		"challenge": base64.StdEncoding.EncodeToString(r.Challenge),
		"seal_config": map[string]any{
			"type":             r.SealConfig.Type,
			"secret_shares":    r.SealConfig.SecretShares,
			"secret_threshold": r.SealConfig.SecretThreshold,
		},
		"seal_record": base64.StdEncoding.EncodeToString(r.SealRecord),
	}
}

// AnswerRequest is the body of POST sys/storage/raft/bootstrap/answer: the
// opened challenge, the address of the node's cluster port and a CSR for
// its node certificate (from NewCSR).
type AnswerRequest struct {
	ServerID    string
	Answer      []byte
	ClusterAddr string
	CSR         []byte // DER
	// APIAddr is the node's api_addr (optional), for sys/leader and
	// sys/ha-status on the other nodes.
	APIAddr string
	// NonVoter: the node joins as a permanent non-voter (Leader.NonVoter).
	NonVoter bool
}

// String hides the answer.
func (r AnswerRequest) String() string { return "cluster.AnswerRequest{" + r.ServerID + " [REDACTED]}" }

// LogValue hides the answer from slog.
func (r AnswerRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// Data is the request's JSON body.
func (r AnswerRequest) Data() map[string]any {
	m := map[string]any{
		"server_id":    r.ServerID,
		"answer":       base64.StdEncoding.EncodeToString(r.Answer),
		"cluster_addr": r.ClusterAddr,
		"csr":          base64.StdEncoding.EncodeToString(r.CSR),
	}
	if r.APIAddr != "" {
		m["api_addr"] = r.APIAddr
	}
	if r.NonVoter {
		m["non_voter"] = true
	}
	return m
}

// DecodeAnswerRequest reads and checks an answer request's fields, as the
// leader receives them (the decoded JSON body): a valid server ID, a
// ChallengeSize answer, a host:port cluster address and a non-empty CSR.
func DecodeAnswerRequest(data map[string]any) (AnswerRequest, error) {
	var r AnswerRequest
	var answer, csr string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"server_id", &r.ServerID}, {"answer", &answer}, {"cluster_addr", &r.ClusterAddr}, {"csr", &csr}} {
		v, ok := data[f.name].(string)
		if !ok || v == "" {
			return AnswerRequest{}, fmt.Errorf("cluster: answer request: %s: required string", f.name)
		}
		*f.dst = v
	}
	if err := ValidateNodeID(r.ServerID); err != nil {
		return AnswerRequest{}, fmt.Errorf("cluster: answer request: server_id: %w", err)
	}
	var err error
	if r.Answer, err = base64.StdEncoding.DecodeString(answer); err != nil || len(r.Answer) != ChallengeSize {
		return AnswerRequest{}, fmt.Errorf("cluster: answer request: answer: want %d bytes in base64", ChallengeSize)
	}
	if r.CSR, err = base64.StdEncoding.DecodeString(csr); err != nil {
		return AnswerRequest{}, fmt.Errorf("cluster: answer request: csr: not base64: %w", err)
	}
	if _, _, err := net.SplitHostPort(r.ClusterAddr); err != nil {
		return AnswerRequest{}, fmt.Errorf("cluster: answer request: cluster_addr: %w", err)
	}
	if v, ok := data["api_addr"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return AnswerRequest{}, errors.New("cluster: answer request: api_addr: not a string")
		}
		if s != "" {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return AnswerRequest{}, errors.New("cluster: answer request: api_addr: not an http(s) URL")
			}
		}
		r.APIAddr = s
	}
	if v, ok := data["non_voter"]; ok && v != nil {
		b, ok := v.(bool)
		if !ok {
			return AnswerRequest{}, errors.New("cluster: answer request: non_voter: not a boolean")
		}
		r.NonVoter = b
	}
	return r, nil
}

// Peer is one member of the raft configuration.
type Peer struct {
	ID      string `json:"id"`
	Address string `json:"address"`
}

// AnswerResponse is what the bootstrap answer returns: the cluster CA
// certificate, the node's new certificate (both PEM) and the raft
// configuration the node joins.
type AnswerResponse struct {
	CACertPEM   []byte
	NodeCertPEM []byte
	Peers       []Peer
}

// Data is the response's "data" object, for the leader to serve.
func (r AnswerResponse) Data() map[string]any {
	peers := make([]any, len(r.Peers))
	for i, p := range r.Peers {
		peers[i] = map[string]any{"id": p.ID, "address": p.Address}
	}
	return map[string]any{"ca_cert": string(r.CACertPEM), "node_cert": string(r.NodeCertPEM), "peers": peers}
}

// envelope is the part of Vault's response envelope the client reads.
type envelope struct {
	Data json.RawMessage `json:"data"`
}

// decodeData decodes the "data" object of a response envelope into v,
// refusing unknown fields, trailing data and a missing or null "data".
func decodeData(body []byte, v any) error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%w: %w", ErrLeaderResponse, err)
	}
	if len(env.Data) == 0 || bytes.Equal(env.Data, []byte("null")) {
		return fmt.Errorf("%w: no data", ErrLeaderResponse)
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: data: %w", ErrLeaderResponse, err)
	}
	return nil
}

// challengeWire is the JSON form of ChallengeResponse.
type challengeWire struct {
	Challenge  *[]byte      `json:"challenge"`
	SealConfig *seal.Config `json:"seal_config"`
	SealRecord *[]byte      `json:"seal_record"`
}

// ParseChallengeResponse decodes the leader's challenge response body.
// Every field is required, the seal configuration must be valid, and the
// challenge must have the size of a sealed nonce.
func ParseChallengeResponse(body []byte) (*ChallengeResponse, error) {
	var w challengeWire
	if err := decodeData(body, &w); err != nil {
		return nil, err
	}
	switch {
	case w.Challenge == nil:
		return nil, fmt.Errorf("%w: challenge missing", ErrLeaderResponse)
	case w.SealConfig == nil:
		return nil, fmt.Errorf("%w: seal_config missing", ErrLeaderResponse)
	case w.SealRecord == nil || len(*w.SealRecord) == 0:
		return nil, fmt.Errorf("%w: seal_record missing", ErrLeaderResponse)
	}
	if n := len(*w.Challenge); n != sealedChallengeSize {
		return nil, fmt.Errorf("%w: challenge is %d bytes, want %d", ErrLeaderResponse, n, sealedChallengeSize)
	}
	if err := w.SealConfig.Validate(); err != nil {
		return nil, fmt.Errorf("%w: seal_config: %w", ErrLeaderResponse, err)
	}
	return &ChallengeResponse{Challenge: *w.Challenge, SealConfig: *w.SealConfig, SealRecord: *w.SealRecord}, nil
}

// sealedChallengeSize is the size of a sealed challenge: version, GCM
// nonce, the nonce itself and the GCM tag.
const sealedChallengeSize = 1 + 12 + ChallengeSize + 16

// answerWire is the JSON form of AnswerResponse.
type answerWire struct {
	CACert   *string `json:"ca_cert"`
	NodeCert *string `json:"node_cert"`
	Peers    []Peer  `json:"peers"`
}

// ParseAnswerResponse decodes the leader's answer response body. The CA
// certificate must be a CA, the node certificate must be signed by it, and
// every peer needs an ID and an address.
func ParseAnswerResponse(body []byte) (*AnswerResponse, error) {
	var w answerWire
	if err := decodeData(body, &w); err != nil {
		return nil, err
	}
	if w.CACert == nil || w.NodeCert == nil {
		return nil, fmt.Errorf("%w: ca_cert and node_cert are required", ErrLeaderResponse)
	}
	ca, err := parseCertPEM([]byte(*w.CACert))
	if err != nil {
		return nil, fmt.Errorf("%w: ca_cert: %w", ErrLeaderResponse, err)
	}
	if !ca.IsCA {
		return nil, fmt.Errorf("%w: ca_cert is not a CA certificate", ErrLeaderResponse)
	}
	leaf, err := parseCertPEM([]byte(*w.NodeCert))
	if err != nil {
		return nil, fmt.Errorf("%w: node_cert: %w", ErrLeaderResponse, err)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("%w: node_cert is not signed by ca_cert: %w", ErrLeaderResponse, err)
	}
	if len(w.Peers) == 0 {
		return nil, fmt.Errorf("%w: peers missing", ErrLeaderResponse)
	}
	for i, p := range w.Peers {
		if p.ID == "" || p.Address == "" {
			return nil, fmt.Errorf("%w: peers[%d]: id and address are required", ErrLeaderResponse, i)
		}
	}
	return &AnswerResponse{CACertPEM: []byte(*w.CACert), NodeCertPEM: []byte(*w.NodeCert), Peers: w.Peers}, nil
}

// parseCertPEM parses a single PEM certificate.
func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("not a PEM certificate")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("data after the certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
