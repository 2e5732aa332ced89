package testcluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// probeTimeout bounds one status request to one node, so a stopped or cut
// off node cannot hold up a wait.
const probeTimeout = 2 * time.Second

// ErrNoVoters is returned by Voters when the configuration lists no server.
var ErrNoVoters = errors.New("testcluster: raft configuration lists no voter")

// NewClient returns a Vault API client for baseURL that trusts the CA in
// caFile, never retries on its own and carries token (none if empty).
func NewClient(t testing.TB, baseURL, caFile, token string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = baseURL
	cfg.MaxRetries = 0
	cfg.Timeout = 30 * time.Second
	if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{CACert: caFile}); err != nil {
		t.Fatal(err)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	if token == "" {
		c.ClearToken()
	}
	return c
}

// Status is what one node says about itself in sys/health.
type Status struct {
	// Up is true when the node answered.
	Up                           bool
	Initialized, Sealed, Standby bool
}

// Active reports whether the node serves as the active node.
func (s Status) Active() bool { return s.Up && s.Initialized && !s.Sealed && !s.Standby }

// UnsealedStandby reports whether the node is an unsealed standby.
func (s Status) UnsealedStandby() bool { return s.Up && s.Initialized && !s.Sealed && s.Standby }

// String is a short form for failure messages.
func (s Status) String() string {
	switch {
	case !s.Up:
		return "down"
	case !s.Initialized:
		return "uninitialized"
	case s.Sealed:
		return "sealed"
	case s.Standby:
		return "standby"
	}
	return "active"
}

// NodeStatus asks a node's sys/health (which answers 200 in every state
// through the client's override codes).
func NodeStatus(ctx context.Context, c *vaultapi.Client) Status {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	h, err := c.Sys().HealthWithContext(ctx)
	if err != nil || h == nil {
		return Status{}
	}
	return Status{Up: true, Initialized: h.Initialized, Sealed: h.Sealed, Standby: h.Standby}
}

// Voters returns the node ids that c's sys/storage/raft/configuration
// lists as voters, sorted, and the id it marks as leader. c needs a token
// allowed to read it (the root token).
func Voters(ctx context.Context, c *vaultapi.Client) (voters []string, leader string, err error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	sec, err := c.Logical().ReadWithContext(ctx, "sys/storage/raft/configuration")
	if err != nil {
		return nil, "", fmt.Errorf("testcluster: read raft configuration: %w", err)
	}
	if sec == nil {
		return nil, "", ErrNoVoters
	}
	conf, _ := sec.Data["config"].(map[string]any)
	servers, _ := conf["servers"].([]any)
	for _, s := range servers {
		m, _ := s.(map[string]any)
		id, _ := m["node_id"].(string)
		if v, _ := m["voter"].(bool); v {
			voters = append(voters, id)
		}
		if l, _ := m["leader"].(bool); l {
			leader = id
		}
	}
	if len(voters) == 0 {
		return nil, "", ErrNoVoters
	}
	slices.Sort(voters)
	return voters, leader, nil
}

// Healthy reports why the nodes behind clients are not yet a healthy
// cluster of exactly ids, or "" when they are: one active node, every
// other an unsealed standby, and the active node's raft configuration
// lists every id as a voter, and every node with HA names the active node
// in sys/leader. clients[i] is node ids[i]'s client with the
// root token; active is the active node's index.
func Healthy(ctx context.Context, clients []*vaultapi.Client, ids []string) (active int, why string) {
	active = -1
	for i, c := range clients {
		st := NodeStatus(ctx, c)
		switch {
		case st.Active() && active >= 0:
			return -1, fmt.Sprintf("%s and %s are both active", ids[active], ids[i])
		case st.Active():
			active = i
		case !st.UnsealedStandby():
			return -1, fmt.Sprintf("%s is %s", ids[i], st)
		}
	}
	if active < 0 {
		return -1, "no node is active"
	}
	voters, leader, err := Voters(ctx, clients[active])
	if err != nil {
		return -1, err.Error()
	}
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(voters, want) {
		return -1, fmt.Sprintf("voters are %v; want %v", voters, want)
	}
	if leader != ids[active] {
		return -1, fmt.Sprintf("raft leader is %q but %s is active", leader, ids[active])
	}
	for i, c := range clients {
		if ha, l := leaderAddress(ctx, c); ha && l != clients[active].Address() {
			return -1, fmt.Sprintf("%s names %q as the active node; want %s", ids[i], l, clients[active].Address())
		}
	}
	return active, ""
}

// leaderAddress is ha_enabled and leader_address in the node's sys/leader
// (true and "" if it does not answer). A server without HA (a single raft
// node before multi-node support) has ha_enabled false.
func leaderAddress(ctx context.Context, c *vaultapi.Client) (ha bool, addr string) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	l, err := c.Sys().LeaderWithContext(ctx)
	if err != nil || l == nil {
		return true, ""
	}
	return l.HAEnabled, l.LeaderAddress
}

// WaitHealthy waits up to timeout for Healthy and returns the active
// node's index; it fails the test with the last reason otherwise.
func WaitHealthy(t testing.TB, clients []*vaultapi.Client, ids []string, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		active, why := Healthy(t.Context(), clients, ids)
		if why == "" {
			return active
		}
		if time.Now().After(deadline) {
			t.Fatalf("testcluster: not healthy after %s: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitActive waits up to timeout until exactly one of clients (nil entries
// are skipped: stopped nodes) reports itself active and returns its index.
func WaitActive(t testing.TB, clients []*vaultapi.Client, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		active, n := -1, 0
		for i, c := range clients {
			if c != nil && NodeStatus(t.Context(), c).Active() {
				active, n = i, n+1
			}
		}
		if n == 1 {
			return active
		}
		if time.Now().After(deadline) {
			t.Fatalf("testcluster: %d active nodes after %s; want exactly one", n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
