package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits of the joining node's calls to the leader.
const (
	// maxResponseSize bounds a leader response read into memory.
	maxResponseSize = 1 << 20
	// requestTimeout bounds one call to the leader.
	requestTimeout = 30 * time.Second
	// Paths of the bootstrap endpoints under the leader's API address.
	challengePath = "/v1/sys/storage/raft/bootstrap/challenge"
	answerPath    = "/v1/sys/storage/raft/bootstrap/answer"
)

// Leader is a node the joining node asks to let it in: its API address and
// how to reach it over TLS. Empty CACertPEM trusts the system roots; the
// client certificate is presented only when both of its PEM fields are set.
type Leader struct {
	APIAddr                     string
	CACertPEM                   []byte
	ClientCertPEM, ClientKeyPEM []byte
	// NonVoter asks to join as a permanent non-voter: the node receives
	// the log and serves reads, but never votes or leads, and autopilot
	// never promotes it (Vault's non_voter).
	NonVoter bool
}

// String names the leader without its client key.
func (l Leader) String() string { return l.APIAddr }

// GoString names the leader without its client key.
func (l Leader) GoString() string { return "cluster.Leader{" + l.APIAddr + "}" }

// LogValue names the leader without its client key.
func (l Leader) LogValue() slog.Value { return slog.StringValue(l.APIAddr) }

// FetchChallenge asks the leader for a join challenge for serverID.
func FetchChallenge(ctx context.Context, l Leader, serverID string) (*ChallengeResponse, error) {
	if err := ValidateNodeID(serverID); err != nil {
		return nil, err
	}
	body, err := l.post(ctx, challengePath, map[string]any{"server_id": serverID})
	if err != nil {
		return nil, err
	}
	resp, err := ParseChallengeResponse(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.APIAddr, err)
	}
	return resp, nil
}

// SendAnswer sends the opened challenge and the node's CSR to the leader and
// returns the node's certificate, the CA certificate and the peers.
func SendAnswer(ctx context.Context, l Leader, req AnswerRequest) (*AnswerResponse, error) {
	body, err := l.post(ctx, answerPath, req.Data())
	if err != nil {
		return nil, err
	}
	resp, err := ParseAnswerResponse(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.APIAddr, err)
	}
	return resp, nil
}

// post sends one JSON request to the leader and returns the body of a 2xx
// response; any other status is a *LeaderError.
func (l Leader) post(ctx context.Context, path string, payload any) ([]byte, error) {
	base, err := url.Parse(strings.TrimSuffix(l.APIAddr, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("cluster: leader address %q is not an http(s) URL", l.APIAddr)
	}
	hc, err := l.httpClient()
	if err != nil {
		return nil, err
	}
	defer hc.CloseIdleConnections()
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("cluster: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+path, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("cluster: %s: %w", l.APIAddr, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cluster: %s: %w", l.APIAddr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("cluster: %s: read response: %w", l.APIAddr, err)
	}
	if len(body) > maxResponseSize {
		return nil, fmt.Errorf("%w: %s: response larger than %d bytes", ErrLeaderResponse, l.APIAddr, maxResponseSize)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &LeaderError{Addr: l.APIAddr, Status: resp.StatusCode, Messages: errorMessages(body)}
	}
	return body, nil
}

// httpClient builds a one-off client with the leader's TLS settings and no
// redirects (a redirect would send the request somewhere unchecked).
func (l Leader) httpClient() (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(l.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(l.CACertPEM) {
			return nil, fmt.Errorf("cluster: leader CA certificate for %s: no PEM certificate found", l.APIAddr)
		}
		tc.RootCAs = pool
	}
	if (len(l.ClientCertPEM) == 0) != (len(l.ClientKeyPEM) == 0) {
		return nil, errors.New("cluster: leader client certificate and key must be given together")
	}
	if len(l.ClientCertPEM) > 0 {
		cert, err := tls.X509KeyPair(l.ClientCertPEM, l.ClientKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("cluster: leader client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// LeaderError is a non-2xx answer from the leader, with the messages of its
// Vault error envelope.
type LeaderError struct {
	Addr     string
	Status   int
	Messages []string
}

func (e *LeaderError) Error() string {
	msg := fmt.Sprintf("cluster: %s answered %d", e.Addr, e.Status)
	if len(e.Messages) > 0 {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	return msg
}

// maxErrorMessages and maxErrorLen bound what a leader error carries into
// logs.
const (
	maxErrorMessages = 5
	maxErrorLen      = 200
)

// errorMessages reads the "errors" of a Vault error envelope, bounded; a
// body that is not one yields none.
func errorMessages(body []byte) []string {
	var env struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil
	}
	msgs := env.Errors[:min(len(env.Errors), maxErrorMessages)]
	for i, m := range msgs {
		if len(m) > maxErrorLen {
			msgs[i] = m[:maxErrorLen] + "..."
		}
	}
	return msgs
}
