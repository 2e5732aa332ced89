// Package httpapi serves the Vault-compatible HTTP API: it decodes requests
// into logical requests, runs them through the core, and writes Vault's JSON
// envelopes. It is the only package that knows HTTP status codes.
package httpapi

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/netctl"
)

// DefaultMaxRequestSize bounds request bodies (32 MiB, as Vault).
const DefaultMaxRequestSize = 32 << 20

// Options configure the handler.
type Options struct {
	Logger *slog.Logger
	// MaxRequestSize bounds request bodies; DefaultMaxRequestSize if zero.
	MaxRequestSize int64
	// MaxRequestDuration bounds a request's processing; none if zero.
	MaxRequestDuration time.Duration
	// Network is the server-wide blocklist, bans and rate-limit quotas;
	// nil turns them off.
	Network *netctl.Controls
	// Listener holds this listener's client-IP resolution, allowed_cidrs
	// and path rules; nil uses the peer address and allows every client.
	Listener *netctl.Listener
	// Forwarder reaches the active node when this node is a standby of a
	// cluster; nil without clustering.
	Forwarder Forwarder
	// Peer marks the handler of the cluster port: its clients are other
	// nodes forwarding requests, whose forwarding headers it believes; it
	// never forwards again.
	Peer bool
}

// Handler serves /v1/ for one core.
type Handler struct {
	core    *core.Core
	logger  *slog.Logger
	maxSize int64
	maxDur  time.Duration
	mux     *http.ServeMux
	network *netctl.Controls
	access  *netctl.Listener
	guarded bool // network controls configured: admit runs
	fwd     Forwarder
	peer    bool
	// auditHeaders: an audit sink records request headers, so requests
	// carry them.
	auditHeaders bool
}

// New builds the API handler.
func New(c *core.Core, opts Options) *Handler {
	h := &Handler{core: c, logger: opts.Logger, maxSize: opts.MaxRequestSize, maxDur: opts.MaxRequestDuration,
		network: opts.Network, access: opts.Listener, fwd: opts.Forwarder, peer: opts.Peer}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.maxSize <= 0 {
		h.maxSize = DefaultMaxRequestSize
	}
	h.guarded = h.network != nil || h.access != nil
	h.auditHeaders = c.AuditRecordsHeaders()
	if h.access == nil {
		// No rules: the peer is the client and every address is allowed.
		h.access, _ = netctl.NewListener(netctl.ListenerConfig{})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/sys/init", h.audited(h.handleInit))
	mux.HandleFunc("/v1/sys/seal-status", h.handleSealStatus)
	mux.HandleFunc("/v1/sys/unseal", h.audited(h.handleUnseal))
	mux.HandleFunc("/v1/sys/seal", h.audited(h.handleSeal))
	mux.HandleFunc("/v1/sys/health", h.handleHealth)
	mux.HandleFunc("/v1/sys/leader", h.handleLeader)
	mux.HandleFunc("/v1/sys/storage/raft/join", h.audited(h.handleRaftJoin))
	for _, p := range []string{"/v1/sys/rekey", "/v1/sys/rekey-recovery-key"} {
		mux.HandleFunc(p+"/init", h.onActive(h.audited(h.handleRekeyInit)))
		mux.HandleFunc(p+"/update", h.onActive(h.audited(h.handleRekeyUpdate)))
	}
	mux.HandleFunc("/v1/sys/generate-root/attempt", h.onActive(h.audited(h.handleGenerateRootAttempt)))
	mux.HandleFunc("/v1/sys/generate-root/update", h.onActive(h.audited(h.handleGenerateRootUpdate)))
	mux.HandleFunc("/v1/", h.handleLogical)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, http.StatusNotFound, "unsupported path: API paths start with /v1/")
	})
	h.mux = mux
	return h
}

// ServeHTTP implements http.Handler. Its own frame is kept small, so the
// stack is grown once, by growStack, rather than first for a larger frame
// here and then again (stack.go).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = growStack(0)
	h.serve(w, r)
}

// serve is ServeHTTP on a grown stack.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if h.maxDur > 0 {
		ctx, cancel := withLazyDeadline(r.Context(), h.maxDur)
		defer cancel()
		r = r.WithContext(ctx)
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxSize)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer h.recoverPanic(sw, r)
	if h.guarded {
		if admitted, ok := h.admit(sw, r); ok {
			r = admitted
			h.route(sw, r)
		}
	} else {
		h.route(sw, r)
	}
	if h.logger.Enabled(r.Context(), slog.LevelDebug) {
		h.logger.Debug("http: request", "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "duration", time.Since(start), "remote", remoteIP(r))
	}
}

// route sends a request to its handler. Every path the mux knows apart from
// /v1/ itself is under /v1/sys/, so any other clean /v1/ path goes straight
// to the pipeline, as the mux would send it, without its matching (about
// 1 µs a request). Unclean paths still get the mux's redirect.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/v1/") && !strings.HasPrefix(p, "/v1/sys/") && r.Method != http.MethodConnect && isClean(p) {
		h.handleLogical(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// isClean reports whether the mux would leave p as it is: path.Clean's
// result, keeping a trailing slash.
func isClean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		return len(c)+1 == len(p) && strings.HasPrefix(p, c)
	}
	return c == p
}

// recoverPanic turns a panic below the handler into a logged internal error
// and, if nothing was written yet, a 500: the client gets an answer rather
// than a reset stream. The panic's value is not logged, since it may hold
// request data; its type and the stack are. The core has already released
// its locks and put a held-back audit entry on record (its own defers).
func (h *Handler) recoverPanic(sw *statusWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v) // net/http's way to abort a response on purpose
	}
	h.logger.Error("http: handler panicked", "method", r.Method, "path", r.URL.Path,
		"panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
	if !sw.wrote {
		writeErrors(sw, http.StatusInternalServerError, "internal error; see the server log")
	}
}

// statusWriter remembers the status for the request log, and whether
// anything was written.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.wrote = true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

// handleLogical serves every path that goes through the core pipeline.
func (h *Handler) handleLogical(w http.ResponseWriter, r *http.Request) {
	var peerCerts []*x509.Certificate
	if h.peer {
		var err error
		if r, peerCerts, err = peerRequest(r); err != nil {
			writeErrors(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	var body []byte
	if h.fwd != nil && !h.peer {
		var err error
		if body, err = bufferBody(r); err != nil {
			writeErrors(w, bodyStatus(err), err.Error())
			return
		}
	}
	req, status, err := h.buildLogicalRequest(w, r)
	if err == nil {
		if h.peer {
			req.Connection = nil
			if len(peerCerts) > 0 {
				req.Connection = &logical.Connection{PeerCertificates: peerCerts}
			}
		}
		req.StaleOK = strings.EqualFold(r.Header.Get(headerConsistency), "stale")
	}
	if err != nil {
		if aerr := h.auditRejected(r, status, err); aerr != nil {
			h.writeError(w, "", aerr)
			return
		}
		writeErrors(w, status, err.Error())
		return
	}
	resp, err := h.core.HandleRequest(r.Context(), req)
	if err != nil {
		if isForward(err) {
			if h.fwd != nil && !h.peer {
				h.forward(w, r, req.ID, body)
				return
			}
			writeErrors(w, http.StatusServiceUnavailable, "this node is not the active node; retry")
			return
		}
		h.writeError(w, req.ID, err)
		return
	}
	if resp == nil && req.Operation != logical.ReadOperation && req.Operation != logical.ListOperation {
		// A write or delete with nothing to say succeeded: 204, as Vault.
		resp = &logical.Response{NoContent: true}
	}
	if resp != nil && resp.Stream != nil {
		h.writeStream(w, req.ID, resp.Stream)
		return
	}
	writeResponse(w, req.ID, resp)
}

// remoteIP is the client's IP address: the one admit resolved (through
// trusted proxies), or the peer's address without port.
func remoteIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(netip.Addr); ok {
		return ip.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientToken reads X-Vault-Token, or a bearer token.
func clientToken(r *http.Request) string {
	if t := r.Header.Get("X-Vault-Token"); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// operationFor maps an HTTP method (and ?list=true) to an operation.
func operationFor(r *http.Request) (logical.Operation, bool) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if r.URL.RawQuery == "" {
			return logical.ReadOperation, true
		}
		if v := r.URL.Query().Get("list"); v == "true" || v == "1" {
			return logical.ListOperation, true
		}
		return logical.ReadOperation, true
	case "LIST":
		return logical.ListOperation, true
	case http.MethodPost, http.MethodPut:
		return logical.UpdateOperation, true
	case http.MethodPatch:
		return logical.PatchOperation, true
	case http.MethodDelete:
		return logical.DeleteOperation, true
	}
	return "", false
}
