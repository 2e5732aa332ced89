package compat

import (
	"encoding/base64"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestInitUnsealSeal(t *testing.T) {
	in := servertest.Start(t, servertest.Options{Uninitialized: true})
	sys := in.Client.Sys()

	ok, err := sys.InitStatus()
	if err != nil || ok {
		t.Fatalf("InitStatus = %v, %v; want false", ok, err)
	}
	h, err := sys.Health()
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if h.Initialized || !h.Sealed {
		t.Fatalf("health of a new server = %+v; want uninitialized and sealed", h)
	}

	if _, err := sys.Init(&vaultapi.InitRequest{SecretShares: 5, SecretThreshold: 6}); err == nil {
		t.Fatal("init with threshold > shares succeeded")
	}
	res, err := sys.Init(&vaultapi.InitRequest{SecretShares: 5, SecretThreshold: 3})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	if len(res.Keys) != 5 || len(res.KeysB64) != 5 || !strings.HasPrefix(res.RootToken, "hvs.") {
		t.Fatalf("init result: %d keys, %d base64 keys, root token prefix %q", len(res.Keys), len(res.KeysB64), res.RootToken[:4])
	}
	if _, err := sys.Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1}); err == nil {
		t.Fatal("second init succeeded")
	}
	st, err := sys.SealStatus()
	if err != nil || !st.Initialized || !st.Sealed || st.T != 3 || st.N != 5 || st.Version == "" {
		t.Fatalf("seal status after init = %+v, %v", st, err)
	}

	// A share of the wrong key set makes the combination fail and resets progress.
	other := servertest.Start(t, servertest.Options{Shares: 3, Threshold: 2})
	if st, err = sys.Unseal(res.Keys[0]); err != nil || st.Progress != 1 {
		t.Fatalf("first share: %+v, %v", st, err)
	}
	if _, err = sys.Unseal(hexOf(other.Keys[0])); err != nil {
		t.Fatalf("foreign share rejected early: %v", err)
	}
	if _, err = sys.Unseal(res.Keys[1]); err == nil {
		t.Fatal("unseal with a foreign share succeeded")
	}
	if st, _ = sys.SealStatus(); st.Progress != 0 || !st.Sealed {
		t.Fatalf("after failed unseal: %+v; want progress reset", st)
	}

	// Shares may be given as base64 too.
	sys.Unseal(res.Keys[2])
	sys.Unseal(res.KeysB64[3])
	if st, err = sys.Unseal(res.Keys[4]); err != nil || st.Sealed {
		t.Fatalf("unseal with 3 shares: %+v, %v", st, err)
	}
	in.Client.SetToken(res.RootToken)
	if h, _ = sys.Health(); !h.Initialized || h.Sealed || h.Standby {
		t.Fatalf("health after unseal = %+v", h)
	}
	if _, err := sys.Leader(); err != nil {
		t.Fatalf("Leader: %v", err)
	}

	// Sealing needs a token with sudo on sys/seal.
	in.Client.SetToken("hvs.notavalidtokenatall12345")
	if err := sys.Seal(); err == nil {
		t.Fatal("seal with a bad token succeeded")
	}
	in.Client.SetToken(res.RootToken)
	if err := sys.Seal(); err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if _, err := in.Client.Logical().Read("secret/data/x"); !isStatus(err, 503) {
		t.Fatalf("read while sealed: %v; want 503", err)
	}
	if st, _ = sys.SealStatus(); !st.Sealed {
		t.Fatal("not sealed after Seal")
	}
	in.CheckNoLeaks(t, append(res.Keys, append(res.KeysB64, res.RootToken)...)...)
}

func TestHealthOverrides(t *testing.T) {
	in := servertest.Start(t, servertest.Options{Uninitialized: true})
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 501},
		{"?uninitcode=200", 200},
		{"?uninitcode=notanumber", 501},
	} {
		resp := rawDo(t, in, "GET", "/v1/sys/health"+tc.query, "", nil)
		if resp.StatusCode != tc.want {
			t.Errorf("GET sys/health%s = %d; want %d", tc.query, resp.StatusCode, tc.want)
		}
	}
	in2 := servertest.Start(t, servertest.Options{})
	if code := rawDo(t, in2, "GET", "/v1/sys/health", "", nil).StatusCode; code != 200 {
		t.Errorf("active node health = %d; want 200", code)
	}
	in2.Server.Core.Seal(t.Context())
	for q, want := range map[string]int{"": 503, "?sealedcode=299": 299} {
		if code := rawDo(t, in2, "GET", "/v1/sys/health"+q, "", nil).StatusCode; code != want {
			t.Errorf("sealed health%s = %d; want %d", q, code, want)
		}
	}
	if code := rawDo(t, in2, "HEAD", "/v1/sys/health", "", nil).StatusCode; code != 503 {
		t.Errorf("HEAD sealed health = %d; want 503", code)
	}
}

func TestRotateAndKeyStatus(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	kv := in.Client.KVv2("secret")
	if _, err := kv.Put(t.Context(), "before", map[string]any{"v": "old-term"}); err != nil {
		t.Fatal(err)
	}
	ks, err := in.Client.Sys().KeyStatus()
	if err != nil || ks.Term != 1 {
		t.Fatalf("KeyStatus = %+v, %v; want term 1", ks, err)
	}
	if err := in.Client.Sys().Rotate(); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if ks, _ = in.Client.Sys().KeyStatus(); ks.Term != 2 {
		t.Fatalf("term after rotate = %d; want 2", ks.Term)
	}
	if _, err := kv.Put(t.Context(), "after", map[string]any{"v": "new-term"}); err != nil {
		t.Fatal(err)
	}
	// Seal and unseal: both terms must still decrypt.
	in.Server.Core.Seal(t.Context())
	if _, err := in.Client.Sys().Unseal(hexOf(in.Keys[0])); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"before": "old-term", "after": "new-term"} {
		s, err := kv.Get(t.Context(), k)
		if err != nil || s.Data["v"] != want {
			t.Fatalf("read %s after rotate+unseal = %v, %v", k, s, err)
		}
	}
	// Rotation needs sudo: a token with only update on sys/rotate is refused.
	if err := in.Client.Sys().PutPolicy("rot", `path "sys/rotate" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	tok := createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"rot"}})
	if err := in.NewClient(t, tok).Sys().Rotate(); !isStatus(err, 403) {
		t.Fatalf("rotate without sudo: %v; want 403", err)
	}
}

func TestRekey(t *testing.T) {
	in := servertest.Start(t, servertest.Options{Shares: 3, Threshold: 2})
	sys := in.Client.Sys()
	st, err := sys.RekeyInit(&vaultapi.RekeyInitRequest{SecretShares: 4, SecretThreshold: 2})
	if err != nil || !st.Started || st.Required != 2 || st.N != 4 {
		t.Fatalf("RekeyInit = %+v, %v", st, err)
	}
	if _, err := sys.RekeyUpdate(hexOf(in.Keys[0]), "wrong-nonce"); err == nil {
		t.Fatal("rekey update with a wrong nonce succeeded")
	}
	if _, err := sys.RekeyUpdate(hexOf(in.Keys[0]), st.Nonce); err != nil {
		t.Fatal(err)
	}
	up, err := sys.RekeyUpdate(hexOf(in.Keys[1]), st.Nonce)
	if err != nil || !up.Complete || len(up.Keys) != 4 {
		t.Fatalf("final rekey update = %+v, %v", up, err)
	}
	in.Server.Core.Seal(t.Context())
	// Old shares no longer unseal; new ones do.
	sys.Unseal(hexOf(in.Keys[0]))
	if _, err := sys.Unseal(hexOf(in.Keys[1])); err == nil {
		t.Fatal("old shares still unseal after rekey")
	}
	sys.Unseal(up.Keys[2])
	if s, err := sys.Unseal(up.KeysB64[3]); err != nil || s.Sealed || s.N != 4 {
		t.Fatalf("unseal with new shares: %+v, %v", s, err)
	}
}

func TestGenerateRoot(t *testing.T) {
	in := servertest.Start(t, servertest.Options{Shares: 3, Threshold: 2})
	sys := in.Client.Sys()
	st, err := sys.GenerateRootInit("", "")
	if err != nil || !st.Started || st.OTP == "" || st.Required != 2 {
		t.Fatalf("GenerateRootInit = %+v, %v", st, err)
	}
	if _, err := sys.GenerateRootUpdate(hexOf(in.Keys[0]), st.Nonce); err != nil {
		t.Fatal(err)
	}
	done, err := sys.GenerateRootUpdate(hexOf(in.Keys[2]), st.Nonce)
	if err != nil || !done.Complete || done.EncodedToken == "" {
		t.Fatalf("final update = %+v, %v", done, err)
	}
	raw, err := base64.RawStdEncoding.DecodeString(done.EncodedToken)
	if err != nil || len(raw) != len(st.OTP) {
		t.Fatalf("encoded token: %v (len %d)", err, len(raw))
	}
	tok := make([]byte, len(raw))
	for i := range raw {
		tok[i] = raw[i] ^ st.OTP[i]
	}
	c := in.NewClient(t, string(tok))
	self, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self with generated root token: %v", err)
	}
	if pols, _ := self.TokenPolicies(); len(pols) != 1 || pols[0] != "root" {
		t.Fatalf("generated token policies = %v; want [root]", pols)
	}
	in.CheckNoLeaks(t, string(tok), st.OTP)
}
