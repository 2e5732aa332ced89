package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/server/servertest"
	"github.com/cofferdev/coffer/internal/testport"
)

// haNode is one in-process node of a test cluster.
type haNode struct {
	in  *servertest.Instance
	cfg *config.Config
	ca  string
}

func (n *haNode) client(t *testing.T, token string) *vaultapi.Client {
	t.Helper()
	vc := vaultapi.DefaultConfig()
	vc.Address = n.cfg.APIAddr
	vc.MaxRetries = 0
	if err := vc.ConfigureTLS(&vaultapi.TLSConfig{CACert: n.ca}); err != nil {
		t.Fatal(err)
	}
	c, err := vaultapi.NewClient(vc)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// startHANodes starts n raft nodes sharing a static seal, each with
// retry_join pointing at the others, none initialized yet.
func startHANodes(t *testing.T, n int) []*haNode {
	return startHANodesWith(t, n, true)
}

// startHANodesWith starts n raft nodes, none initialized yet. With
// autoJoin they share a static seal and retry_join each other; without,
// they use Shamir and join only when told to.
func startHANodesWith(t *testing.T, n int, autoJoin bool) []*haNode {
	t.Helper()
	dir := t.TempDir()
	tlsFiles := servertest.WriteTLSFiles(t, dir)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keyFile := filepath.Join(dir, "seal.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	apiPorts := make([]string, n)
	for i := range apiPorts {
		apiPorts[i] = testport.Loopback(t)
	}
	nodes := make([]*haNode, n)
	for i := range nodes {
		cfg := config.Default()
		l := config.DefaultListener()
		l.Address = apiPorts[i]
		l.TLSCertFile, l.TLSKeyFile = tlsFiles.CertFile, tlsFiles.KeyFile
		cfg.Listeners = []config.Listener{l}
		cfg.APIAddr = "https://" + apiPorts[i]
		cfg.ClusterAddr = "https://" + testport.Loopback(t)
		var joins []config.RetryJoin
		if autoJoin {
			cfg.Seal = &config.Seal{Type: "static", Options: map[string]string{"key_file": keyFile}}
		}
		for j := range nodes {
			if j != i && autoJoin {
				joins = append(joins, config.RetryJoin{LeaderAPIAddr: "https://" + apiPorts[j], LeaderCACertFile: tlsFiles.CAFile})
			}
		}
		cfg.Storage = config.Storage{Type: "raft", RetryJoin: joins,
			Options: map[string]string{"path": filepath.Join(dir, fmt.Sprintf("node-%d", i)), "node_id": fmt.Sprintf("node-%d", i)}}
		in := servertest.Start(t, servertest.Options{Config: cfg, Uninitialized: true})
		nodes[i] = &haNode{in: in, cfg: cfg, ca: tlsFiles.CAFile}
	}
	return nodes
}

// formHACluster starts three nodes, initializes node 0 and waits until
// the other two joined and serve as unsealed standbys.
func formHACluster(t *testing.T) ([]*haNode, []*vaultapi.Client) {
	t.Helper()
	ctx := context.Background()
	nodes := startHANodes(t, 3)
	res, err := nodes[0].in.Server.Core.Initialize(ctx, core.InitParams{RecoveryShares: 1, RecoveryThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	clients := make([]*vaultapi.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = n.client(t, res.RootToken)
	}
	deadline := time.Now().Add(60 * time.Second)
	for i := 1; i < len(nodes); i++ {
		for {
			h, err := clients[i].Sys().Health()
			if err == nil && h.Initialized && !h.Sealed && h.Standby {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d did not become an unsealed standby: %+v %v\n%s", i, h, err, nodes[i].in.Logs())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := clients[0].Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	// Joined nodes start as non-voters; autopilot promotes them once they
	// have been healthy for its stabilisation time.
	for {
		st, err := clients[0].Sys().RaftAutopilotState()
		if err == nil && st != nil && len(st.Voters) == len(nodes) && st.Healthy && st.FailureTolerance == 1 {
			break
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("autopilot did not make every node a voter: %+v %v", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nodes, clients
}

// activeIndex finds the node that says it is the active node.
func activeIndex(t *testing.T, clients []*vaultapi.Client) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for i, c := range clients {
			if l, err := c.Sys().Leader(); err == nil && l.IsSelf {
				return i
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no node became the active node")
	return -1
}

// TestHACluster forms a three-node cluster and checks, on one cluster to
// keep the suite short: joining, standby reads served locally, forwarded
// writes, sys/leader, caches invalidated on standbys (tokens, policies,
// mounts), health codes and step-down.
func TestHACluster(t *testing.T) {
	ctx := context.Background()
	nodes, clients := formHACluster(t)
	if _, err := clients[0].KVv2("secret").Put(ctx, "a", map[string]any{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	for i := range nodes {
		got, err := clients[i].KVv2("secret").Get(ctx, "a")
		if err != nil || got.Data["v"] != "1" {
			t.Fatalf("node %d read: %v %v\n%s", i, got, err, nodes[i].in.Logs())
		}
	}
	// A write sent to a standby is forwarded; every node reads it.
	if _, err := clients[2].KVv2("secret").Put(ctx, "a", map[string]any{"v": "2"}); err != nil {
		t.Fatalf("write via standby: %v\n%s", err, nodes[2].in.Logs())
	}
	for i := range nodes {
		got, err := clients[i].KVv2("secret").Get(ctx, "a")
		if err != nil || got.Data["v"] != "2" {
			t.Fatalf("node %d read after forwarded write: %v %v", i, got, err)
		}
	}
	// Reads on standbys were served there; the write went to the active node.
	active := -1
	for i := range nodes {
		l, err := clients[i].Sys().Leader()
		if err != nil || !l.HAEnabled {
			t.Fatalf("sys/leader on node %d: %+v %v", i, l, err)
		}
		if l.IsSelf {
			active = i
		}
	}
	if active < 0 {
		t.Fatal("no node says it is the active node")
	}
	for i := range nodes {
		l, _ := clients[i].Sys().Leader()
		if l.LeaderAddress != nodes[active].cfg.APIAddr {
			t.Errorf("node %d names %q as the leader, want %q", i, l.LeaderAddress, nodes[active].cfg.APIAddr)
		}
		if i == active {
			continue
		}
		logs := nodes[i].in.Logs()
		if strings.Contains(logs, "forwarded to the active node\" method=GET") {
			t.Errorf("standby %d forwarded a read instead of serving it:\n%s", i, logs)
		}
	}
	if !strings.Contains(nodes[2].in.Logs(), "forwarded to the active node\" method=PUT") && active != 2 {
		t.Errorf("standby 2 did not forward the write")
	}
	t.Run("invalidation", func(t *testing.T) { testHAInvalidation(t, nodes, clients) })
	t.Run("kv-upgrade", func(t *testing.T) { testHAKVUpgrade(t, clients) })
	t.Run("batch-login", func(t *testing.T) { testHABatchLogin(t, nodes, clients) })
	t.Run("health", func(t *testing.T) { testHAHealth(t, clients) })
	t.Run("step-down", func(t *testing.T) { testHAStepDown(t, nodes, clients) })
}

// testHAKVUpgrade upgrades a KV v1 mount to v2 through a standby (the tune
// is forwarded); every node then serves the data as KV v2.
func testHAKVUpgrade(t *testing.T, clients []*vaultapi.Client) {
	ctx := context.Background()
	active := activeIndex(t, clients)
	standby := (active + 1) % len(clients)
	if err := clients[active].Sys().Mount("legacy", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	if err := clients[active].KVv1("legacy").Put(ctx, "app/db", map[string]any{"password": "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := clients[standby].Sys().TuneMountAllowNil("legacy", vaultapi.TuneMountConfigInput{Options: &map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("upgrade through a standby: %v", err)
	}
	for i, c := range clients {
		var got *vaultapi.KVSecret
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got, err = c.KVv2("legacy").Get(ctx, "app/db"); err == nil {
				break
			}
		}
		if err != nil || got.Data["password"] != "v1" || got.VersionMetadata.Version != 1 {
			t.Fatalf("node %d after the upgrade: %+v, %v", i, got, err)
		}
	}
}

// testHAInvalidation: what the active node changes, standbys stop serving
// from their caches at once.
func testHAInvalidation(t *testing.T, nodes []*haNode, clients []*vaultapi.Client) {
	ctx := context.Background()
	active := activeIndex(t, clients)
	standby := (active + 1) % len(nodes)
	a, s := clients[active], clients[standby]
	if err := a.Sys().PutPolicy("reader", `path "secret/data/a" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"reader"}})
	if err != nil {
		t.Fatal(err)
	}
	user := nodes[standby].client(t, tok.Auth.ClientToken)
	if _, err := user.KVv2("secret").Get(ctx, "a"); err != nil {
		t.Fatalf("token on the standby before the policy change: %v", err)
	}
	// The policy loses the path: the standby's cached ACL must not grant it.
	if err := a.Sys().PutPolicy("reader", `path "secret/data/other" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	if _, err := user.KVv2("secret").Get(ctx, "a"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("standby still grants a path the policy no longer has: %v", err)
	}
	// A revoked token stops working on the standby.
	if err := a.Auth().Token().RevokeTree(tok.Auth.ClientToken); err != nil {
		t.Fatal(err)
	}
	if _, err := user.Auth().Token().LookupSelf(); err == nil {
		t.Fatal("a revoked token still works on the standby")
	}
	// A new mount on the active node is served by the standby.
	if err := a.Sys().Mount("kv1", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Logical().Write("kv1/x", map[string]any{"v": "mounted"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Logical().Read("kv1/x")
	if err != nil || got == nil || got.Data["v"] != "mounted" {
		t.Fatalf("standby read on a new mount: %v %v", got, err)
	}
	if err := a.Sys().Unmount("kv1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Logical().Read("kv1/x"); err == nil && got != nil {
		t.Fatalf("standby still serves an unmounted engine: %v", got.Data)
	}
	// A stale read is served from the standby's own state.
	s.AddHeader("X-Coffer-Consistency", "stale")
	defer s.SetHeaders(nil)
	if got, err := s.KVv2("secret").Get(ctx, "a"); err != nil || got.Data["v"] == nil {
		t.Fatalf("stale read: %v %v", got, err)
	}
}

func testHAHealth(t *testing.T, clients []*vaultapi.Client) {
	active := activeIndex(t, clients)
	for i, c := range clients {
		want := 429
		if i == active {
			want = 200
		}
		resp, err := c.CloneConfig().HttpClient.Get(c.Address() + "/v1/sys/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("node %d health: %d, want %d", i, resp.StatusCode, want)
		}
		resp, err = c.CloneConfig().HttpClient.Get(c.Address() + "/v1/sys/health?standbyok=true")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("node %d health with standbyok: %d", i, resp.StatusCode)
		}
	}
}

func testHAStepDown(t *testing.T, nodes []*haNode, clients []*vaultapi.Client) {
	ctx := context.Background()
	before := activeIndex(t, clients)
	standby := (before + 1) % len(nodes)
	// Sent to a standby: it is forwarded to the active node, which steps down.
	if err := clients[standby].Sys().StepDown(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		after := activeIndex(t, clients)
		if after != before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the active node did not change after step-down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The cluster goes on: a write through the old active node works and
	// every node reads it.
	if _, err := clients[before].KVv2("secret").Put(ctx, "after-step-down", map[string]any{"v": "ok"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if got, err := c.KVv2("secret").Get(ctx, "after-step-down"); err != nil || got.Data["v"] != "ok" {
			t.Fatalf("node %d after step-down: %v %v", i, got, err)
		}
	}
}

// TestHAJoinWithShamir: a node without retry_join joins through
// sys/storage/raft/join (the Vault client's RaftJoin), then needs the
// cluster's unseal keys: wrong shares are refused, the right ones finish
// the join and it serves the cluster's data as a standby.
func TestHAJoinWithShamir(t *testing.T) {
	ctx := context.Background()
	nodes := startHANodesWith(t, 2, false)
	res, err := nodes[0].in.Server.Core.Initialize(ctx, core.InitParams{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range res.Keys[:2] {
		if err := nodes[0].in.Server.Core.Unseal(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	a, b := nodes[0].client(t, res.RootToken), nodes[1].client(t, res.RootToken)
	if err := a.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.KVv2("secret").Put(ctx, "shared", map[string]any{"v": "from-a"}); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(nodes[0].ca)
	if err != nil {
		t.Fatal(err)
	}
	joined, err := b.Sys().RaftJoin(&vaultapi.RaftJoinRequest{LeaderAPIAddr: nodes[0].cfg.APIAddr, LeaderCACert: string(caPEM)})
	if err != nil || !joined.Joined {
		t.Fatalf("raft join: %+v %v", joined, err)
	}
	st, err := b.Sys().SealStatus()
	if err != nil || !st.Sealed || st.T != 2 || st.N != 3 {
		t.Fatalf("a joining node reports the cluster's threshold: %+v %v", st, err)
	}
	// A share of another cluster is refused and the join still waits.
	other := make([]byte, len(res.Keys[0]))
	_, _ = rand.Read(other)
	if _, err := b.Sys().Unseal(hex.EncodeToString(other)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sys().Unseal(hex.EncodeToString(res.Keys[2])); err == nil {
		t.Fatal("a wrong combination of shares finished the join")
	}
	for _, k := range res.Keys[1:] {
		if st, err = b.Sys().Unseal(hex.EncodeToString(k)); err != nil {
			t.Fatalf("unseal to join: %v\n%s", err, nodes[1].in.Logs())
		}
	}
	if st.Sealed {
		t.Fatalf("the joined node is still sealed: %+v", st)
	}
	got, err := b.KVv2("secret").Get(ctx, "shared")
	if err != nil || got.Data["v"] != "from-a" {
		t.Fatalf("read on the joined node: %v %v", got, err)
	}
	testStandbyForwardsSealOperations(t, a, b, res.Keys)
	// The second join is refused: it is a member now.
	if _, err := b.Sys().RaftJoin(&vaultapi.RaftJoinRequest{LeaderAPIAddr: nodes[0].cfg.APIAddr}); err == nil {
		t.Fatal("a member joined again")
	}
	nodesStatus, err := a.Logical().Read("sys/ha-status")
	if err != nil || nodesStatus == nil {
		t.Fatal(err)
	}
	list, _ := nodesStatus.Data["nodes"].([]any)
	if len(list) != 2 {
		t.Fatalf("ha-status lists %d nodes: %v", len(list), nodesStatus.Data)
	}
	for _, n := range list {
		m := n.(map[string]any)
		if m["api_address"] == "" {
			t.Errorf("ha-status has no api_address for %v", m["node_id"])
		}
	}
}

// testStandbyForwardsSealOperations: rekey and generate-root sent to the
// standby b run on the active node a, which keeps their progress: a rekey
// driven wholly through b finishes with new shares, and a generate-root
// attempt started and cancelled through b shows on a.
func testStandbyForwardsSealOperations(t *testing.T, a, b *vaultapi.Client, keys [][]byte) {
	t.Helper()
	init, err := b.Sys().RekeyInit(&vaultapi.RekeyInitRequest{SecretShares: 3, SecretThreshold: 2})
	if err != nil || !init.Started || init.Nonce == "" {
		t.Fatalf("rekey init on the standby: %+v %v", init, err)
	}
	if st, err := a.Sys().RekeyStatus(); err != nil || !st.Started || st.Nonce != init.Nonce {
		t.Fatalf("the active node's rekey status = %+v, %v; want the attempt started on the standby", st, err)
	}
	var done *vaultapi.RekeyUpdateResponse
	for _, k := range keys[:2] {
		if done, err = b.Sys().RekeyUpdate(hex.EncodeToString(k), init.Nonce); err != nil {
			t.Fatalf("rekey update on the standby: %v", err)
		}
	}
	if !done.Complete || len(done.Keys) != 3 || slices.Contains(done.Keys, hex.EncodeToString(keys[0])) {
		t.Fatalf("rekey through the standby = %+v; want 3 new shares", done)
	}
	if st, err := a.Sys().RekeyStatus(); err != nil || st.Started {
		t.Fatalf("the active node's rekey status after completion = %+v, %v", st, err)
	}
	gen, err := b.Sys().GenerateRootInit("", "")
	if err != nil || !gen.Started {
		t.Fatalf("generate-root on the standby: %+v %v", gen, err)
	}
	if st, err := a.Sys().GenerateRootStatus(); err != nil || !st.Started || st.Nonce != gen.Nonce {
		t.Fatalf("the active node's generate-root status = %+v, %v", st, err)
	}
	if err := b.Sys().GenerateRootCancel(); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Sys().GenerateRootStatus(); err != nil || st.Started {
		t.Fatalf("generate-root status after the standby cancelled = %+v, %v", st, err)
	}
}

// testHABatchLogin: a login that issues a batch token writes nothing, so a
// standby serves it itself (once the entity exists), and the token works
// on every node.
func testHABatchLogin(t *testing.T, nodes []*haNode, clients []*vaultapi.Client) {
	ctx := context.Background()
	active := activeIndex(t, clients)
	standby := (active + 1) % len(nodes)
	a := clients[active]
	if err := a.Sys().EnableAuthWithOptions("approle", &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Logical().Write("auth/approle/role/ci", map[string]any{"token_type": "batch", "token_policies": "default"}); err != nil {
		t.Fatal(err)
	}
	rid, err := a.Logical().Read("auth/approle/role/ci/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := a.Logical().Write("auth/approle/role/ci/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]any{"role_id": rid.Data["role_id"], "secret_id": sid.Data["secret_id"]}
	s := nodes[standby].client(t, "")
	login := func() string {
		t.Helper()
		out, err := s.Logical().WriteWithContext(ctx, "auth/approle/login", creds)
		if err != nil || out.Auth == nil {
			t.Fatalf("login on the standby: %v %v", out, err)
		}
		return out.Auth.ClientToken
	}
	login() // the first login creates the entity: that write goes to the active node
	forwarded := func() int {
		return strings.Count(nodes[standby].in.Logs(), `forwarded to the active node" method=PUT path=/v1/auth/approle/login`)
	}
	before := forwarded()
	tok := login()
	if !strings.HasPrefix(tok, "hvb.") {
		t.Fatalf("not a batch token: %q", tok)
	}
	if after := forwarded(); after != before {
		t.Fatalf("the standby forwarded a batch login (%d -> %d)", before, after)
	}
	for i := range nodes {
		c := nodes[i].client(t, tok)
		if _, err := c.Auth().Token().LookupSelf(); err != nil {
			t.Fatalf("batch token from the standby on node %d: %v", i, err)
		}
	}
}

// TestHANonVoter: a node that joins with non_voter stays a non-voter, even
// once autopilot has promoted a node that joined after it, and serves reads.
func TestHANonVoter(t *testing.T) {
	ctx := context.Background()
	nodes := startHANodesWith(t, 3, false)
	res, err := nodes[0].in.Server.Core.Initialize(ctx, core.InitParams{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].in.Server.Core.Unseal(ctx, res.Keys[0]); err != nil {
		t.Fatal(err)
	}
	a := nodes[0].client(t, res.RootToken)
	if _, err := a.Logical().Write("sys/storage/raft/autopilot/configuration",
		map[string]any{"server_stabilization_time": "1s"}); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(nodes[0].ca)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []struct {
		node     int
		nonVoter bool
	}{{2, true}, {1, false}} {
		c := nodes[j.node].client(t, "")
		joined, err := c.Sys().RaftJoin(&vaultapi.RaftJoinRequest{LeaderAPIAddr: nodes[0].cfg.APIAddr,
			LeaderCACert: string(caPEM), NonVoter: j.nonVoter})
		if err != nil || !joined.Joined {
			t.Fatalf("node-%d join: %+v %v", j.node, joined, err)
		}
		if st, err := c.Sys().Unseal(hex.EncodeToString(res.Keys[0])); err != nil || st.Sealed {
			t.Fatalf("node-%d unseal: %+v %v\n%s", j.node, st, err, nodes[j.node].in.Logs())
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	var promotedAt time.Time
	for {
		st, err := a.Sys().RaftAutopilotState()
		if err == nil && st != nil && slices.Contains(st.Voters, "node-1") && promotedAt.IsZero() {
			promotedAt = time.Now()
		}
		if !promotedAt.IsZero() && time.Since(promotedAt) > 4*time.Second {
			if slices.Contains(st.Voters, "node-2") || !slices.Contains(st.NonVoters, "node-2") {
				t.Fatalf("node-2 joined as a non-voter but autopilot lists voters %v, non-voters %v", st.Voters, st.NonVoters)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("autopilot did not promote node-1: %+v %v", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cfg, err := a.Logical().Read("sys/storage/raft/configuration")
	if err != nil || cfg == nil {
		t.Fatalf("raft configuration: %v %v", cfg, err)
	}
	servers, _ := cfg.Data["config"].(map[string]any)["servers"].([]any)
	if len(servers) != 3 {
		t.Fatalf("raft configuration lists %d servers: %v", len(servers), cfg.Data)
	}
	for _, srv := range servers {
		s := srv.(map[string]any)
		if want := s["node_id"] != "node-2"; s["voter"] != want {
			t.Errorf("raft configuration: %v voter = %v; want %v", s["node_id"], s["voter"], want)
		}
	}
	if err := a.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.KVv2("secret").Put(ctx, "k", map[string]any{"v": "from-a"}); err != nil {
		t.Fatal(err)
	}
	got, err := nodes[2].client(t, res.RootToken).KVv2("secret").Get(ctx, "k")
	if err != nil || got.Data["v"] != "from-a" {
		t.Fatalf("read on the non-voter: %v %v", got, err)
	}
}
