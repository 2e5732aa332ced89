package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// NoToken as Op.Token sends the request without any token (logins).
const NoToken = "\x00none"

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 4 << 10

// Target sends workload requests to one server over keep-alive
// connections. It is safe for concurrent use.
type Target struct {
	base   string // scheme://host:port/v1/
	token  string
	header http.Header // extra headers on every request; never modified
	client *http.Client
}

// NewTarget builds a Target for the server cfg names (address, token, CA
// file, client certificate, skip-verify), keeping up to maxConns
// connections alive so every worker of a sweep reuses its own.
func NewTarget(cfg apiclient.Config, maxConns int) (*Target, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.Address, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q: want http(s)://host:port", apiclient.ErrInvalidAddress, cfg.Address)
	}
	tc, err := clientTLS(cfg)
	if err != nil {
		return nil, err
	}
	return newTarget(u.String(), cfg.Token, tc, maxConns), nil
}

func newTarget(base, token string, tc *tls.Config, maxConns int) *Target {
	maxConns = max(maxConns, 1)
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &Target{base: base + "/v1/", token: token,
		client: &http.Client{Transport: transport, Timeout: time.Minute}}
}

// WithHeader returns a Target that sends the same requests as t over the
// same connections, plus every header in h (for example from ParseHeaders)
// on each request: workload requests and Fetch alike. The token and the
// body's Content-Type are still set per request. h is copied.
func (t *Target) WithHeader(h http.Header) *Target {
	c := *t
	c.header = h.Clone()
	return &c
}

// newRequest builds a request to path with t's extra headers and token.
func (t *Target) newRequest(ctx context.Context, method, path, token string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s /v1/%s: %w", method, path, err)
	}
	for name, values := range t.header {
		req.Header[name] = values
	}
	if token != "" && token != NoToken {
		req.Header["X-Vault-Token"] = []string{token}
	}
	return req, nil
}

// clientTLS builds TLS 1.2+ client settings from cfg, as apiclient does.
func clientTLS(cfg apiclient.Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.TLSSkipVerify} //nolint:gosec // the user asked for it
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: ca certificate: %w", apiclient.ErrInvalidTLS, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca certificate %s: no PEM certificates found", apiclient.ErrInvalidTLS, cfg.CACert)
		}
		tc.RootCAs = pool
	}
	if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
		return nil, fmt.Errorf("%w: client certificate and key must be given together", apiclient.ErrInvalidTLS)
	}
	if cfg.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %w", apiclient.ErrInvalidTLS, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// StatusError is a non-2xx answer to a workload request.
type StatusError struct {
	StatusCode int
	// Errors are the server's messages from the {"errors": [...]} body.
	Errors []string
}

// Error implements error.
func (e *StatusError) Error() string {
	msg := strings.Join(e.Errors, "; ")
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("%d %s", e.StatusCode, msg)
}

// Do sends op and reads the whole response. A non-2xx status yields a
// *StatusError.
func (t *Target) Do(ctx context.Context, op Op) error {
	var body io.Reader
	if op.Body != nil {
		body = bytes.NewReader(op.Body)
	}
	tok := t.token
	if op.Token != "" {
		tok = op.Token
	}
	req, err := t.newRequest(ctx, op.Method, op.Path, tok, body)
	if err != nil {
		return err
	}
	if op.Body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s /v1/%s: %w", op.Method, op.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return fmt.Errorf("%s /v1/%s: read response: %w", op.Method, op.Path, err)
		}
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb struct {
		Errors []string `json:"errors"`
	}
	_ = json.Unmarshal(raw, &eb) // a non-JSON error body leaves Errors empty
	return &StatusError{StatusCode: resp.StatusCode, Errors: eb.Errors}
}

// Close closes the Target's idle connections.
func (t *Target) Close() { t.client.CloseIdleConnections() }

// TLS reports whether the Target speaks https.
func (t *Target) TLS() bool { return strings.HasPrefix(t.base, "https://") }

// Fetch sends op and returns the body of its 2xx response.
func (t *Target) Fetch(ctx context.Context, op Op) ([]byte, error) {
	req, err := t.newRequest(ctx, op.Method, op.Path, t.token, nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s /v1/%s: %w", op.Method, op.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s /v1/%s: read response: %w", op.Method, op.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s /v1/%s: %w", op.Method, op.Path, &StatusError{StatusCode: resp.StatusCode})
	}
	return body, nil
}
