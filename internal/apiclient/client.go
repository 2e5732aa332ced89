// Package apiclient is a minimal client for the Vault HTTP API.
package apiclient

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
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/version"
)

// MethodList is Vault's LIST verb. The client sends it as GET with
// list=true, which Vault servers treat the same and proxies let through.
const MethodList = "LIST"

// Client talks to one server with one token. It keeps connections alive
// across requests and is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New validates cfg and builds a client with its own connection pool.
func New(cfg Config) (*Client, error) {
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	base, err := url.Parse(strings.TrimSuffix(addr, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("%w: %q: want http(s)://host:port", ErrInvalidAddress, addr)
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &Client{
		base:  base,
		token: cfg.Token,
		http: &http.Client{
			Transport:     transport,
			Timeout:       timeout,
			CheckRedirect: checkRedirect,
		},
	}, nil
}

// tlsConfig builds TLS 1.2+ settings trusting cfg.CACert (or the system
// roots) and presenting the client certificate when one is configured.
func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.TLSSkipVerify, //nolint:gosec // the user asked for it explicitly
	}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: ca certificate: %w", ErrInvalidTLS, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca certificate %s: no PEM certificates found", ErrInvalidTLS, cfg.CACert)
		}
		tc.RootCAs = pool
	}
	if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
		return nil, fmt.Errorf("%w: client certificate and key must be given together", ErrInvalidTLS)
	}
	if cfg.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %w", ErrInvalidTLS, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// checkRedirect follows a server's redirect (a standby pointing at the active
// node) but never from https to http, which would expose the token.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errors.New("refusing redirect from https to http")
	}
	return nil
}

// WithToken returns a client that shares c's connections but sends token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// Token returns the token the client sends.
func (c *Client) Token() string { return c.token }

// Address returns the server's base URL.
func (c *Client) Address() string { return c.base.String() }

// String describes the client without its token.
func (c *Client) String() string { return "apiclient.Client{" + c.base.String() + "}" }

// LogValue describes the client without its token.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Do sends one request to /v1/<path> and decodes Vault's response envelope.
// body, when non-nil, is sent as JSON ([]byte and json.RawMessage as they
// are). A 204 yields a nil Secret. A non-2xx status yields a *ResponseError;
// the Secret is then still returned when the body carried data or warnings
// (KV v2 answers 404 with metadata for a deleted version).
func (c *Client) Do(ctx context.Context, method, path string, body any, query url.Values) (*Secret, error) {
	resp, err := c.send(ctx, method, path, body, query)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		s, err := ParseSecret(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%s /v1/%s: %w", method, path, err)
		}
		return s, nil
	}
	return c.responseError(resp, method, path)
}

// DoRaw sends one request like Do and decodes the JSON body into out as it
// is: for sys/ endpoints (seal-status, init, unseal, health, rekey,
// generate-root) that answer without the envelope. out may be nil.
func (c *Client) DoRaw(ctx context.Context, method, path string, body any, query url.Values, out any) error {
	resp, err := c.send(ctx, method, path, body, query)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		_, err := c.responseError(resp, method, path)
		return err
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil && err != io.EOF {
		return fmt.Errorf("%s /v1/%s: decode response: %w", method, path, err)
	}
	return nil
}

// send builds and sends the request; the caller closes the response body.
func (c *Client) send(ctx context.Context, method, path string, body any, query url.Values) (*http.Response, error) {
	path = strings.TrimPrefix(path, "/")
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/" + path
	q := url.Values{}
	for k, v := range query {
		q[k] = append([]string(nil), v...)
	}
	httpMethod := method
	if method == MethodList {
		httpMethod = http.MethodGet
		q.Set("list", "true")
	}
	u.RawQuery = q.Encode()
	payload, err := encodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("%s /v1/%s: %w", method, path, err)
	}
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, u.String(), reader)
	if err != nil {
		return nil, fmt.Errorf("%s /v1/%s: %w", method, path, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
		if httpMethod == http.MethodPatch {
			req.Header.Set("Content-Type", "application/merge-patch+json")
		}
	}
	return c.roundTrip(req, method, path)
}

// roundTrip sets the headers every request carries (the Vault request
// marker, the user agent, the token) and sends req; errors name the method
// and API path.
func (c *Client) roundTrip(req *http.Request, method, path string) (*http.Response, error) {
	req.Header.Set("X-Vault-Request", "true")
	req.Header.Set("User-Agent", "coffer/"+version.Version)
	if c.token != "" {
		req.Header.Set("X-Vault-Token", c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The *url.Error repeats the method and URL; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s /v1/%s: %w", method, path, err)
	}
	return resp, nil
}

// encodeBody turns a request body into JSON bytes; nil stays nil.
func encodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		if b == nil {
			return nil, nil
		}
	case []byte:
		return b, nil
	case json.RawMessage:
		return b, nil
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request body: %w", err)
	}
	return payload, nil
}

// responseError decodes an error body into a *ResponseError, keeping any
// envelope that came with it. Server messages that echo the token are
// redacted.
func (c *Client) responseError(resp *http.Response, method, path string) (*Secret, error) {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	var body struct {
		Errors []string `json:"errors"`
	}
	_ = json.Unmarshal(raw, &body) // a non-JSON error body leaves Errors empty
	re := &ResponseError{Method: method, Path: path, StatusCode: resp.StatusCode}
	for _, e := range body.Errors {
		if c.token != "" {
			e = strings.ReplaceAll(e, c.token, redacted)
		}
		re.Errors = append(re.Errors, e)
	}
	s, err := ParseSecret(bytes.NewReader(raw))
	if err != nil || s == nil || (len(s.Data) == 0 && len(s.Warnings) == 0) {
		s = nil
	}
	return s, re
}

// closeBody drains a little of the body so the connection can be reused.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}
