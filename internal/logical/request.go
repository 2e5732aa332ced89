// Package logical holds the request and response envelopes that flow through
// Coffer's one request pipeline, the error kinds engines return, and a small
// path framework engines use to declare their API.
package logical

import (
	"crypto/x509"
	"io"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// Operation is what a request asks to do. The names match Vault's policy
// capabilities so an operation can be checked against an ACL directly.
type Operation string

// The operations a request can carry.
const (
	CreateOperation Operation = "create"
	ReadOperation   Operation = "read"
	UpdateOperation Operation = "update"
	PatchOperation  Operation = "patch"
	DeleteOperation Operation = "delete"
	ListOperation   Operation = "list"
	// RevokeOperation is sent by the core to the engine that created a lease
	// when the lease ends; Request.Secret carries the lease's data.
	RevokeOperation Operation = "revoke"
	// RenewOperation is sent by the core to extend a lease; the increment
	// asked for is in Request.Data["increment"] (a time.Duration).
	RenewOperation Operation = "renew"
)

// Request is one API call after the HTTP layer decoded it. The core fills in
// the routing fields (MountPoint, Path relative to the mount, Storage) before an
// engine sees it; engines never see the client's token.
type Request struct {
	// ID is the request id echoed in responses and logs.
	ID string
	// Operation is the requested operation.
	Operation Operation
	// Path is the full API path (without /v1/) until routing; engines see it
	// relative to their mount.
	Path string
	// MountPoint is the mount the request was routed to, e.g. "secret/".
	MountPoint string
	// Data holds the decoded JSON body or query parameters.
	Data map[string]any
	// Storage is the engine's private view of the barrier. Set by the core.
	Storage storage.Backend
	// ClientToken is the raw token the client sent. The core clears it before
	// calling engines.
	ClientToken string
	// Caller describes the authenticated caller; nil for unauthenticated paths.
	Caller *Caller
	// RemoteAddr is the client's IP address (after trusted-proxy handling).
	RemoteAddr string
	// Headers holds the request's headers, canonicalised, without
	// credentials; only for audit sinks that record headers (empty when
	// none does).
	Headers map[string][]string
	// WrapTTL asks for the response to be wrapped in a single-use token.
	WrapTTL time.Duration
	// Unauthenticated marks a request on a path that needs no token.
	Unauthenticated bool
	// Connection describes the client's TLS connection, for auth methods
	// that authenticate by certificate; nil over plain HTTP.
	Connection *Connection
	// Secret is set on RevokeOperation and RenewOperation requests: the
	// lease's Secret with its InternalData restored from storage.
	Secret *Secret
	// StaleOK lets a standby node of a cluster serve a read from its own
	// state without first catching up with the leader (the client sent
	// X-Coffer-Consistency: stale).
	StaleOK bool
	// Body is the raw request body on the few paths that take a non-JSON
	// body (a snapshot upload); nil elsewhere, where Data holds the JSON.
	Body io.Reader
}

// Connection is what the HTTP layer knows about the client's connection.
type Connection struct {
	// PeerCertificates are the certificates the client presented, leaf
	// first, not verified by the listener unless it requires client certs.
	PeerCertificates []*x509.Certificate
}

// Caller is what the core tells engines about the token behind a request.
type Caller struct {
	Accessor    string
	DisplayName string
	Policies    []string
	EntityID    string
	// CubbyholeID identifies the token's private cubbyhole storage.
	CubbyholeID string
	Meta        map[string]string
	TokenType   string
	// Root is true for tokens holding the root policy.
	Root bool
	// Sudo is true when the ACL grants sudo on this request's path.
	Sudo bool
}

// Get returns a field from Data, or nil.
func (r *Request) Get(key string) any {
	if r.Data == nil {
		return nil
	}
	return r.Data[key]
}
