package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"

	"github.com/cofferdev/coffer/internal/apiclient"
)

var (
	// ErrUnknownWorkload is returned by NewWorkload for a name it does not know.
	ErrUnknownWorkload = errors.New("unknown workload")
	// ErrAuthNotMounted is returned by a login workload's Setup when the
	// server has no such auth method and cannot enable one.
	ErrAuthNotMounted = errors.New("auth method not mounted")
	// ErrEngineNotMounted is returned by a workload's Setup when the server
	// cannot mount the secrets engine it needs.
	ErrEngineNotMounted = errors.New("secrets engine not mounted")
	// ErrInvalidParams is returned for workload parameters out of range.
	ErrInvalidParams = errors.New("invalid workload parameters")
)

// Op is one request a workload sends.
type Op struct {
	// Method is the HTTP method; Path is the API path without /v1/.
	Method, Path string
	// Body is the JSON request body, or nil.
	Body []byte
	// Token, when set, replaces the run's token for this request.
	Token string
}

// Workload is one kind of request stream. Setup prepares the server
// (mounts, secrets, roles) through the API client; Next returns the n-th
// request and must be safe for concurrent use (each worker passes its own
// rng); Cleanup removes what Setup created and runs even after a failed or
// cancelled run.
type Workload interface {
	Name() string
	Setup(ctx context.Context, c *apiclient.Client) error
	Next(rng *mrand.Rand, n uint64) Op
	Cleanup(ctx context.Context, c *apiclient.Client) error
}

// Params tune the workloads.
type Params struct {
	// PayloadBytes is the size of each written value (KV) or plaintext
	// (transit).
	PayloadBytes int
	// Keys is the number of distinct KV secrets read or written.
	Keys int
	// ReadRatio is the fraction of kv-mixed requests that are reads.
	ReadRatio float64
	// TokenType is the token the login workloads' roles issue: "batch"
	// (nothing written per login) or "service".
	TokenType string
}

// DefaultParams are the parameters the CLI starts from.
func DefaultParams() Params {
	return Params{PayloadBytes: 64, Keys: 1, ReadRatio: 0.9, TokenType: "batch"}
}

func (p Params) validate() error {
	switch {
	case p.PayloadBytes < 1 || p.PayloadBytes > 1<<20:
		return fmt.Errorf("%w: payload bytes %d: want 1..1048576", ErrInvalidParams, p.PayloadBytes)
	case p.Keys < 1 || p.Keys > 1_000_000:
		return fmt.Errorf("%w: keys %d: want 1..1000000", ErrInvalidParams, p.Keys)
	case p.ReadRatio < 0 || p.ReadRatio > 1:
		return fmt.Errorf("%w: read ratio %v: want 0..1", ErrInvalidParams, p.ReadRatio)
	case p.TokenType != "batch" && p.TokenType != "service":
		return fmt.Errorf("%w: token type %q: want batch or service", ErrInvalidParams, p.TokenType)
	}
	return nil
}

// workloads maps each workload name to its constructor.
func workloads() map[string]func(Params) Workload {
	return map[string]func(Params) Workload{
		"kv-read":         func(p Params) Workload { return newKV("kv-read", p, 1) },
		"kv-write":        func(p Params) Workload { return newKV("kv-write", p, 0) },
		"kv-mixed":        func(p Params) Workload { return newKV("kv-mixed", p, p.ReadRatio) },
		"token-lookup":    func(p Params) Workload { return &tokenLookup{} },
		"login-approle":   func(p Params) Workload { return &approleLogin{tokenType: p.TokenType} },
		"login-userpass":  func(p Params) Workload { return &userpassLogin{tokenType: p.TokenType} },
		"login-jwt":       func(p Params) Workload { return &jwtLogin{tokenType: p.TokenType} },
		"transit-encrypt": func(p Params) Workload { return newTransit(p) },
	}
}

// WorkloadNames lists the known workloads, sorted.
func WorkloadNames() []string {
	var names []string
	for n := range workloads() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewWorkload returns the named workload with parameters p.
func NewWorkload(name string, p Params) (Workload, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	mk, ok := workloads()[name]
	if !ok {
		return nil, fmt.Errorf("%w %q: want one of %s", ErrUnknownWorkload, name, strings.Join(WorkloadNames(), ", "))
	}
	return mk(p), nil
}

// uniqueName returns prefix followed by 8 random hex digits, so that
// concurrent or abandoned runs never collide with each other or with the
// server's own mounts.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b)
}

// mount mounts a secrets engine of type typ at path.
func mount(ctx context.Context, c *apiclient.Client, path, typ string, options map[string]any) error {
	body := map[string]any{"type": typ, "description": "coffer bench, removed after the run"}
	if options != nil {
		body["options"] = options
	}
	if _, err := c.Write(ctx, "sys/mounts/"+path, body); err != nil {
		return fmt.Errorf("%w: %s at %s: %w", ErrEngineNotMounted, typ, path, err)
	}
	return nil
}

// unmount removes a mount; a mount that is already gone is not an error.
func unmount(ctx context.Context, c *apiclient.Client, path string) error {
	if path == "" {
		return nil
	}
	if _, err := c.Delete(ctx, "sys/mounts/"+path, nil); err != nil && !apiclient.IsStatus(err, 404) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	return nil
}

// randomValue returns n printable random characters.
func randomValue(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
