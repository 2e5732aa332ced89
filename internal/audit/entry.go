package audit

import (
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Entry types. Request and response entries come from the pipeline; header
// and checkpoint entries are the chain's own.
const (
	TypeRequest    = "request"
	TypeResponse   = "response"
	TypeHeader     = "header"
	TypeCheckpoint = "checkpoint"
)

// Entry is one request or response record, shaped as Vault's audit entries.
// Entries built by NewRequestEntry and NewResponseEntry hold plaintext; each
// sink redacts its own copy before writing.
type Entry struct {
	Type     string    `json:"type"`
	Time     string    `json:"time"`
	Auth     *Auth     `json:"auth,omitempty"`
	Request  *Request  `json:"request,omitempty"`
	Response *Response `json:"response,omitempty"`
	Error    string    `json:"error,omitempty"`

	// at is the entry's time when Time is empty: the encoder formats it
	// straight into the line.
	at time.Time
}

// Auth describes the token behind a request, or one a response issued.
type Auth struct {
	ClientToken string   `json:"client_token,omitempty"`
	Accessor    string   `json:"accessor,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
	Policies    []string `json:"policies,omitempty"`
	EntityID    string   `json:"entity_id,omitempty"`
	TokenType   string   `json:"token_type,omitempty"`

	// tokenID is Caller.TokenID: sinks reuse the hashes of ClientToken and
	// Accessor they made for it earlier.
	tokenID string
}

// Request is the request part of an entry.
type Request struct {
	ID            string         `json:"id,omitempty"`
	Operation     string         `json:"operation"`
	Path          string         `json:"path"`
	MountPoint    string         `json:"mount_point,omitempty"`
	Data          map[string]any `json:"data,omitempty"`
	RemoteAddress string         `json:"remote_address,omitempty"`
	// Headers holds the request's headers; each sink writes only those
	// its `headers` option lists.
	Headers map[string][]string `json:"headers,omitempty"`
	WrapTTL int64               `json:"wrap_ttl,omitempty"`
}

// Response is the response part of an entry.
type Response struct {
	Status   int            `json:"status,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Auth     *Auth          `json:"auth,omitempty"`
	WrapInfo *WrapInfo      `json:"wrap_info,omitempty"`
	LeaseID  string         `json:"lease_id,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
}

// WrapInfo describes a wrapping token a response was replaced by.
type WrapInfo struct {
	Token           string `json:"token,omitempty"`
	Accessor        string `json:"accessor,omitempty"`
	TTL             int64  `json:"ttl,omitempty"`
	CreationPath    string `json:"creation_path,omitempty"`
	WrappedAccessor string `json:"wrapped_accessor,omitempty"`
}

// Caller is what the pipeline knows about the token behind a request:
// the raw token (hashed before writing) and its entry's public fields.
type Caller struct {
	ClientToken string
	Accessor    string
	DisplayName string
	Policies    []string
	EntityID    string
	TokenType   string
	// TokenID, if set, identifies ClientToken without revealing it (the
	// token store's keyed hash of it): each sink then hashes a token and its
	// accessor once and reuses the result for later entries of the same
	// TokenID. It must identify ClientToken and nothing else; "" turns the
	// reuse off. It is never written.
	TokenID string
}

// fill sets a to the caller's auth part of an entry.
func (c *Caller) fill(a *Auth) {
	*a = Auth{ClientToken: c.ClientToken, Accessor: c.Accessor, DisplayName: c.DisplayName,
		Policies: c.Policies, EntityID: c.EntityID, TokenType: c.TokenType, tokenID: c.TokenID}
}

// entryParts is an entry with room for every part it points to, so that
// building one takes a single allocation, or none in Broker.LogRequest and
// LogResponse. request and response fill the parts but leave the pointers
// between them to the caller (link, or the same code inline where p must
// stay on the stack: storing p's own addresses through a pointer makes
// the compiler move it to the heap).
type entryParts struct {
	e     Entry
	auth  Auth
	req   Request
	resp  Response
	rauth Auth
	wrap  WrapInfo
	// hasAuth, hasRAuth and hasWrap say which optional parts are set.
	hasAuth, hasRAuth, hasWrap bool
}

// request fills p's parts for a request entry; the time is left for the
// encoder unless formatTime.
func (p *entryParts) request(now time.Time, req *logical.Request, mountPoint string, caller *Caller, err error, formatTime bool) {
	p.e = Entry{Type: TypeRequest, at: now, Error: errorText(err)}
	if formatTime {
		p.e.Time = now.UTC().Format(time.RFC3339Nano)
	}
	if p.hasAuth = caller != nil; p.hasAuth {
		caller.fill(&p.auth)
	}
	p.req = Request{ID: req.ID, Operation: string(req.Operation), Path: req.Path, MountPoint: mountPoint,
		Data: req.Data, RemoteAddress: req.RemoteAddr, Headers: req.Headers, WrapTTL: int64(req.WrapTTL / time.Second)}
}

// response fills p's parts for a response entry, as request does.
func (p *entryParts) response(now time.Time, req *logical.Request, mountPoint string, caller *Caller, resp *logical.Response, status int, err error, formatTime bool) {
	p.request(now, req, mountPoint, caller, err, formatTime)
	p.e.Type = TypeResponse
	p.resp = Response{Status: status}
	if resp == nil {
		return
	}
	r := &p.resp
	r.Data, r.Warnings = resp.Data, resp.Warnings
	if resp.Secret != nil {
		r.LeaseID = resp.Secret.LeaseID
	}
	if a := resp.Auth; a != nil {
		p.hasRAuth = true
		p.rauth = Auth{ClientToken: a.ClientToken, Accessor: a.Accessor, Policies: a.Policies,
			EntityID: a.EntityID, TokenType: a.TokenType}
	}
	if wi := resp.WrapInfo; wi != nil {
		r.Data = nil
		p.hasWrap = true
		p.wrap = WrapInfo{Token: wi.Token, Accessor: wi.Accessor, TTL: int64(wi.TTL / time.Second),
			CreationPath: wi.CreationPath, WrappedAccessor: wi.WrappedAccessor}
	}
}

// link points p's entry at its parts; response says whether it is a
// response entry. Keep Broker.LogRequest, LogResponse and LogExchange in
// step.
func (p *entryParts) link(response bool) *Entry {
	p.e.Request = &p.req
	if p.hasAuth {
		p.e.Auth = &p.auth
	}
	if !response {
		return &p.e
	}
	p.e.Response = &p.resp
	if p.hasRAuth {
		p.resp.Auth = &p.rauth
	}
	if p.hasWrap {
		p.resp.WrapInfo = &p.wrap
	}
	return &p.e
}

// NewRequestEntry records req as the pipeline received it. reqErr is the
// authentication or authorization error, if any.
func NewRequestEntry(now time.Time, req *logical.Request, mountPoint string, caller *Caller, reqErr error) *Entry {
	p := new(entryParts)
	p.request(now, req, mountPoint, caller, reqErr, true)
	return p.link(false)
}

// NewResponseEntry records the outcome of req; status is the HTTP status
// the client will get.
func NewResponseEntry(now time.Time, req *logical.Request, mountPoint string, caller *Caller, resp *logical.Response, status int, respErr error) *Entry {
	p := new(entryParts)
	p.response(now, req, mountPoint, caller, resp, status, respErr, true)
	return p.link(true)
}

// NewEventEntry records a request the HTTP layer served itself (sys/init,
// sys/unseal, sys/seal, sys/rekey, sys/generate-root) or refused before the
// pipeline. It carries no request data: those bodies hold key material.
func NewEventEntry(now time.Time, typ, id, op, path, remote string, status int, err error) *Entry {
	e := &Entry{Type: typ, Time: now.UTC().Format(time.RFC3339Nano),
		Request: &Request{ID: id, Operation: op, Path: path, RemoteAddress: remote}, Error: errorText(err)}
	if typ == TypeResponse {
		e.Response = &Response{Status: status}
	}
	return e
}

// errorText is the client-safe text of err: the message of a logical error,
// a generic text for internal ones (whose detail may not be safe).
func errorText(err error) string {
	if err == nil {
		return ""
	}
	if logical.KindOf(err) == logical.KindInternal {
		return "internal error"
	}
	return err.Error()
}
