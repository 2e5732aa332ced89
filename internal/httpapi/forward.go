package httpapi

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

// Forwarder reaches the active node of a cluster over the cluster port.
type Forwarder interface {
	// ActiveNode returns a client for the active node's cluster port and
	// its base URL ("https://host:port"), or an error when no node leads.
	ActiveNode() (*http.Client, string, error)
}

// Headers between nodes. A node sets them on a request it forwards; only
// the cluster port's handler (Options.Peer) believes them, because only
// cluster members, authenticated by their certificates, reach it.
const (
	headerForwardedFor  = "X-Coffer-Forwarded-For"
	headerForwardedCert = "X-Coffer-Forwarded-Client-Cert"
	// headerConsistency: "stale" lets a standby answer a read without
	// catching up with the leader first.
	headerConsistency = "X-Coffer-Consistency"
)

// hopHeaders are not copied between the client and the active node.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
	headerForwardedFor: true, headerForwardedCert: true,
}

// bufferBody reads the whole request body so it can be sent again to the
// active node, and puts a fresh reader over it back in the request.
func bufferBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, errors.New("failed to read request body")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return raw, nil
}

// forward hands a request this standby must not answer to the active node
// and copies the answer back. The client's address and certificates go
// along in headers, so the active node's audit log, login lockout and cert
// auth see the real client.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, requestID string, body []byte) {
	client, base, err := h.fwd.ActiveNode()
	if err != nil {
		h.logger.Warn("http: no active node to forward to", "path", r.URL.Path, "error", err)
		writeErrors(w, http.StatusServiceUnavailable, "no active node is available to handle the request; retry")
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, "internal error")
		return
	}
	for k, vs := range r.Header {
		if !hopHeaders[http.CanonicalHeaderKey(k)] {
			out.Header[k] = vs
		}
	}
	out.Header.Set(headerForwardedFor, remoteIP(r))
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		parts := make([]string, len(r.TLS.PeerCertificates))
		for i, c := range r.TLS.PeerCertificates {
			parts[i] = base64.StdEncoding.EncodeToString(c.Raw)
		}
		out.Header.Set(headerForwardedCert, strings.Join(parts, ","))
	}
	h.logger.Debug("http: request forwarded to the active node", "method", r.Method, "path", r.URL.Path, "request_id", requestID)
	resp, err := client.Do(out)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		h.logger.Warn("http: forwarding to the active node failed", "path", r.URL.Path, "request_id", requestID, "error", err)
		writeErrors(w, http.StatusServiceUnavailable, "forwarding the request to the active node failed; retry")
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if !hopHeaders[http.CanonicalHeaderKey(k)] {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		h.logger.Warn("http: copying the active node's answer failed", "request_id", requestID, "error", err)
	}
}

// onActive runs next on the active node: a standby forwards the request
// there, and the active node audits and answers it. Rekey and generate-root
// need this: their progress lives in the active node's memory, and they
// write the seal's records. Without a forwarder (no cluster), and on the
// cluster port, next runs here, and the core refuses it on a standby.
func (h *Handler) onActive(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.fwd == nil || h.peer || !h.core.Standby() {
			next(w, r)
			return
		}
		body, err := bufferBody(r)
		if err != nil {
			writeErrors(w, bodyStatus(err), err.Error())
			return
		}
		h.forward(w, r, newRequestID(), body)
	}
}

// peerRequest applies what a forwarding node said about the client: its
// address becomes the request's client address and its certificates the
// connection's. Only the cluster port's handler calls it.
func peerRequest(r *http.Request) (*http.Request, []*x509.Certificate, error) {
	var certs []*x509.Certificate
	if v := r.Header.Get(headerForwardedCert); v != "" {
		for _, part := range strings.Split(v, ",") {
			der, err := base64.StdEncoding.DecodeString(part)
			if err != nil {
				return nil, nil, errors.New("malformed forwarded client certificate")
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, nil, errors.New("malformed forwarded client certificate")
			}
			certs = append(certs, c)
		}
	}
	if v := r.Header.Get(headerForwardedFor); v != "" {
		ip, err := netip.ParseAddr(v)
		if err != nil {
			return nil, nil, errors.New("malformed forwarded client address")
		}
		r = r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip))
	}
	return r, certs, nil
}

// isForward reports whether the core asked for the request to go to the
// active node.
func isForward(err error) bool { return errors.Is(err, logical.ErrForward) }
