// Package logicaltest drives a logical.Backend in tests the way the core
// does: over in-memory storage, with a captured debug log and a settable
// clock, failing the test with the path and error of a request that must
// succeed.
package logicaltest

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// DefaultRemoteAddr is the client address Do sends requests from.
const DefaultRemoteAddr = "127.0.0.1"

// Harness sends requests to one backend as the core would. Build the
// backend from Config, then set Backend. A Harness is safe for concurrent
// Do calls as long as its fields are not changed meanwhile.
type Harness struct {
	// Backend receives the requests.
	Backend logical.Backend
	// Storage is the backend's storage, passed on every request; a test may
	// wrap it (to slow it or make it fail) before sending requests.
	Storage storage.Backend
	// Logs collects what the backend logs through Config's logger.
	Logs *LogBuffer
	// RenewConnection is the client connection of CheckRenewal's renewals
	// (a cert login's certificate); nil for none.
	RenewConnection *logical.Connection

	t         testing.TB
	mountPath string
}

// New returns a harness for a backend mounted at mountPath (for example
// "auth/approle/"), over fresh in-memory storage. Its Backend is unset.
func New(t testing.TB, mountPath string) *Harness {
	t.Helper()
	return &Harness{Storage: inmem.New(), Logs: &LogBuffer{}, t: t, mountPath: mountPath}
}

// Config is the configuration the core would hand the backend at mount
// or unseal: the harness's storage and mount path, and a debug-level text
// logger writing into Logs.
func (h *Harness) Config() *logical.BackendConfig {
	return &logical.BackendConfig{Storage: h.Storage, MountPath: h.mountPath, Logger: h.Logs.Logger()}
}

// Do sends a request from DefaultRemoteAddr.
func (h *Harness) Do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return h.DoFrom(DefaultRemoteAddr, op, path, data)
}

// DoFrom sends a request from addr. As the core does, a write to a path
// with an existence check becomes a create when its target does not exist.
func (h *Harness) DoFrom(addr string, op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	ctx := context.Background()
	req := &logical.Request{Operation: op, Path: path, Data: data, Storage: h.Storage,
		MountPoint: h.mountPath, RemoteAddr: addr}
	if ec, ok := h.Backend.(logical.ExistenceChecker); ok && op == logical.UpdateOperation {
		checked, exists, err := ec.Exists(ctx, req)
		if err != nil {
			return nil, err
		}
		if checked && !exists {
			req.Operation = logical.CreateOperation
		}
	}
	return h.Backend.HandleRequest(ctx, req)
}

// Must is Do that fails the test, naming the operation and path, on an
// error.
func (h *Harness) Must(op logical.Operation, path string, data map[string]any) *logical.Response {
	h.t.Helper()
	resp, err := h.Do(op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// LogBuffer is a log sink safe for concurrent writers.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a debug-level text logger writing into l.
func (l *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Clock is a settable clock safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// StandbyModes checks the standby mode a backend reports for update
// requests on each path; want maps a path to its expected mode.
func StandbyModes(t *testing.T, b logical.StandbyPather, want map[string]logical.StandbyMode) {
	t.Helper()
	for path, mode := range want {
		got := b.StandbyMode(&logical.Request{Operation: logical.UpdateOperation, Path: path})
		if got != mode {
			t.Errorf("StandbyMode(%q) = %d, want %d", path, got, mode)
		}
	}
}

// CheckRenewal checks the backend's logical.AuthRenewer with the Auth of a
// successful login, as the core asks it before renewing the login's token
// (whose policies gain "default"): the token renews on the login's
// settings while they stand; is refused once setPolicies gave the user or
// role other policies; renews again once they are back; and is refused,
// naming name, once remove deleted the user or role. It fails t, which may
// be a subtest's.
func (h *Harness) CheckRenewal(t testing.TB, login *logical.Auth, setPolicies func(policies []string), remove func(), name string) {
	t.Helper()
	r, ok := h.Backend.(logical.AuthRenewer)
	if !ok {
		t.Fatalf("%T does not check logins before renewals (logical.AuthRenewer)", h.Backend)
	}
	renew := func() (*logical.Auth, error) {
		policies := append(slices.Clone(login.Policies), "default")
		token := &logical.Auth{Metadata: maps.Clone(login.Metadata), DisplayName: login.DisplayName,
			Policies: policies, TokenPolicies: slices.Clone(policies)}
		req := &logical.Request{Operation: logical.UpdateOperation, Path: "login", Storage: h.Storage, MountPoint: h.mountPath,
			Connection: h.RenewConnection}
		return r.RenewAuth(context.Background(), req, token)
	}
	refused := func(when, message string) {
		t.Helper()
		_, err := renew()
		if logical.KindOf(err) != logical.KindPermissionDenied || !strings.Contains(err.Error(), message) {
			t.Fatalf("renewal %s: %v; want permission denied saying %q", when, err, message)
		}
	}
	a, err := renew()
	if err != nil || a.TTL != login.TTL || a.MaxTTL != login.MaxTTL || a.Period != login.Period {
		t.Fatalf("renewal of a current login = %+v, %v; want the login's TTLs", a, err)
	}
	setPolicies(append(slices.Clone(login.Policies), "renewal-test-extra"))
	refused("after the policies changed", "policies have changed")
	setPolicies(login.Policies)
	if _, err := renew(); err != nil {
		t.Fatalf("renewal once the policies are back: %v", err)
	}
	remove()
	refused("after the user or role was deleted", strconv.Quote(name)+" this token logged in with no longer exists")
}
