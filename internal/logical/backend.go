package logical

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Backend is what the core routes requests to: a secrets engine, an auth
// method or the system backend. Implementations are safe for concurrent use.
type Backend interface {
	// HandleRequest serves a request whose Path is relative to the mount.
	HandleRequest(ctx context.Context, req *Request) (*Response, error)
}

// ExistenceChecker is implemented by backends that can tell whether the
// target of a write exists, so the core can check a POST against the
// "create" capability when it does not and "update" when it does.
type ExistenceChecker interface {
	// Exists reports (checked, exists). checked is false when the path has no
	// existence check; the core then treats the write as an update.
	Exists(ctx context.Context, req *Request) (checked, exists bool, err error)
}

// Cleaner is implemented by backends that hold resources released at unmount
// or seal.
type Cleaner interface {
	Cleanup(ctx context.Context)
}

// LoginPather is implemented by auth methods: it tells the core which
// paths take no token and who a login attempt is for.
type LoginPather interface {
	// LoginPath reports whether req's path needs no token and, if so, the
	// identifier of the user or role the attempt is for ("" if none).
	LoginPath(req *Request) (unauthenticated bool, user string)
}

// AuthRenewer is implemented by auth methods that check a login again
// before its token is renewed, as Vault's AuthRenew callbacks do. token
// holds the token's metadata, display name, own policies (TokenPolicies),
// creation TTL and period; req.Storage is the mount's storage and req.Path
// the login's path within the mount. It returns the token settings the
// login would get now (TTL, MaxTTL, ExplicitMaxTTL, Period), nil to leave
// the token's own, or an error, which refuses the renewal: the user or role
// is gone, or its policies are no longer the token's.
type AuthRenewer interface {
	RenewAuth(ctx context.Context, req *Request, token *Auth) (*Auth, error)
}

// Invalidator is implemented by backends that keep in memory what they read
// from storage. On a standby node the core calls Invalidate with the key,
// relative to the backend's storage view, of every entry the active node
// wrote or deleted, so the next request reads it afresh.
type Invalidator interface {
	Invalidate(ctx context.Context, key string)
}

// StandbyMode says how a standby node of a cluster treats a request.
type StandbyMode int

const (
	// StandbyDefault: reads and lists are served by the standby (and handed
	// to the active node if they turn out to write); everything else is
	// handed to the active node.
	StandbyDefault StandbyMode = iota
	// StandbyForward: always handled by the active node, for reads with
	// effects outside storage (a database credential is created).
	StandbyForward
	// StandbyLocal: tried on the standby even for writes (logins, pure
	// cryptography), handed to the active node only if it writes storage.
	// Handlers on such paths must have no effect outside storage before
	// their first storage write.
	StandbyLocal
)

// StandbyPather is implemented by backends whose paths choose a StandbyMode.
type StandbyPather interface {
	StandbyMode(req *Request) StandbyMode
}

// Handler serves one operation on one path.
type Handler func(ctx context.Context, req *Request, d *FieldData) (*Response, error)

// ExistenceFunc reports whether the object a path names exists.
type ExistenceFunc func(ctx context.Context, req *Request, d *FieldData) (bool, error)

// Path declares one API path of a backend.
type Path struct {
	// Pattern is a regular expression matched against the whole relative
	// path. Named groups become fields of type TypeString.
	Pattern string
	// Fields is the schema of the path's parameters.
	Fields map[string]*Field
	// Operations maps each supported operation to its handler.
	Operations map[Operation]Handler
	// Existence, if set, lets the core distinguish create from update.
	Existence ExistenceFunc
	// Help is a one-line description used in docs and errors.
	Help string
	// Unauthenticated marks a login path: the core serves it without a
	// token, and a response carrying Auth becomes a new token.
	Unauthenticated bool
	// LoginIdentifier names the field that identifies who is logging in (a
	// username or role id) on an Unauthenticated path, for login lockout.
	LoginIdentifier string
	// Standby says how a standby node treats requests on this path;
	// Unauthenticated (login) paths default to StandbyLocal.
	Standby StandbyMode

	re   *regexp.Regexp
	tail *tailMatch // the pattern's fast form, when it has one
}

// Router is a Backend built from a list of Paths. The first matching path in
// declaration order wins.
type Router struct {
	paths []*Path
	// allDefault: no path asks for anything but StandbyDefault, so
	// StandbyMode need not match.
	allDefault bool
}

var _ Backend = (*Router)(nil)
var _ ExistenceChecker = (*Router)(nil)
var (
	_ LoginPather   = (*Router)(nil)
	_ StandbyPather = (*Router)(nil)
)

// NewRouter compiles the paths. It panics on an invalid pattern: patterns are
// program constants.
func NewRouter(paths ...*Path) *Router {
	for _, p := range paths {
		p.re = regexp.MustCompile("^" + p.Pattern + "$")
		p.tail = tailMatchOf(p.Pattern)
		for _, name := range p.re.SubexpNames() {
			if name == "" {
				continue
			}
			if p.Fields == nil {
				p.Fields = map[string]*Field{}
			}
			if _, ok := p.Fields[name]; !ok {
				p.Fields[name] = &Field{Type: TypeString}
			}
		}
	}
	r := &Router{paths: paths, allDefault: true}
	for _, p := range paths {
		if p.Standby != StandbyDefault || p.Unauthenticated {
			r.allDefault = false
		}
	}
	return r
}

// match finds the path for rel and builds its field data, with path captures
// taking precedence over body fields of the same name. A pattern's literal
// prefix is checked before its regexp runs, and a pattern that is all
// literal is matched by comparison alone.
func (r *Router) match(req *Request) (*Path, *FieldData) {
	for _, p := range r.paths {
		if p.tail != nil {
			v, ok := p.tail.match(req.Path)
			if !ok {
				continue
			}
			raw := copyData(req.Data, 1)
			raw[p.tail.name] = v
			return p, &FieldData{Raw: raw, Schema: p.Fields}
		}
		prefix, complete := p.re.LiteralPrefix()
		if !strings.HasPrefix(req.Path, prefix) || (complete && len(req.Path) != len(prefix)) {
			continue
		}
		if complete {
			return p, &FieldData{Raw: copyData(req.Data, 0), Schema: p.Fields}
		}
		m := p.re.FindStringSubmatch(req.Path)
		if m == nil {
			continue
		}
		raw := copyData(req.Data, len(m)-1)
		for i, name := range p.re.SubexpNames() {
			if name != "" {
				raw[name] = m[i]
			}
		}
		return p, &FieldData{Raw: raw, Schema: p.Fields}
	}
	return nil, nil
}

// copyData copies a request's data with room for extra captures; with
// neither data nor captures it returns data itself, nil or empty, so
// FieldData.Raw may be nil. Handlers read Raw and may delete from it (a
// no-op here); none assigns into it, which on a nil map would panic.
func copyData(data map[string]any, extra int) map[string]any {
	if len(data) == 0 && extra == 0 {
		return data
	}
	raw := make(map[string]any, len(data)+extra)
	for k, v := range data {
		raw[k] = v
	}
	return raw
}

// HandleRequest routes to the matching path's handler after validating fields.
func (r *Router) HandleRequest(ctx context.Context, req *Request) (*Response, error) {
	p, d := r.match(req)
	if p == nil {
		return nil, Errorf(KindUnsupportedPath, "unsupported path %q", req.Path)
	}
	op := req.Operation
	h, ok := p.Operations[op]
	if !ok && op == CreateOperation {
		h, ok = p.Operations[UpdateOperation]
	}
	if !ok && op == UpdateOperation {
		h, ok = p.Operations[CreateOperation]
	}
	if !ok {
		return nil, Errorf(KindUnsupportedOperation, "unsupported operation %q on %q", op, req.Path)
	}
	write := op == CreateOperation || op == UpdateOperation || op == PatchOperation
	if err := d.validate(write); err != nil {
		return nil, err
	}
	resp, err := h(ctx, req, d)
	if err != nil {
		return nil, err
	}
	if unknown := d.Unknown(); len(unknown) > 0 && resp != nil && op != ReadOperation && op != ListOperation {
		resp.Warn(fmt.Sprintf("Endpoint ignored these unrecognized parameters: [%s]", strings.Join(unknown, " ")))
	}
	return resp, nil
}

// LoginPath implements LoginPather from the paths' Unauthenticated and
// LoginIdentifier settings.
func (r *Router) LoginPath(req *Request) (bool, string) {
	for _, p := range r.paths {
		if !p.Unauthenticated {
			continue
		}
		m := p.re.FindStringSubmatch(req.Path)
		if m == nil {
			continue
		}
		if p.LoginIdentifier == "" {
			return true, ""
		}
		for i, name := range p.re.SubexpNames() {
			if name == p.LoginIdentifier {
				return true, m[i]
			}
		}
		if v, ok := req.Data[p.LoginIdentifier].(string); ok {
			return true, v
		}
		return true, ""
	}
	return false, ""
}

// StandbyMode implements StandbyPather: the Standby of the first path
// matching req, StandbyLocal for login paths left at the default.
func (r *Router) StandbyMode(req *Request) StandbyMode {
	if r.allDefault {
		return StandbyDefault
	}
	for _, p := range r.paths {
		if !p.re.MatchString(req.Path) {
			continue
		}
		if p.Standby == StandbyDefault && p.Unauthenticated {
			return StandbyLocal
		}
		return p.Standby
	}
	return StandbyDefault
}

// Exists implements ExistenceChecker.
func (r *Router) Exists(ctx context.Context, req *Request) (bool, bool, error) {
	p, d := r.match(req)
	if p == nil || p.Existence == nil {
		return false, false, nil
	}
	if _, ok := p.Operations[CreateOperation]; !ok {
		if _, ok := p.Operations[UpdateOperation]; !ok {
			return false, false, nil
		}
	}
	exists, err := p.Existence(ctx, req, d)
	return true, exists, err
}

// ListResponse builds the response of a LIST: {"keys": [...]}, or nil (404)
// when there are no keys, as Vault does.
func ListResponse(keys []string) *Response {
	if len(keys) == 0 {
		return nil
	}
	return &Response{Data: map[string]any{"keys": keys}}
}
