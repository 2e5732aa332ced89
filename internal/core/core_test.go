package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func TestNewValidatesTTLs(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without storage succeeded")
	}
	if _, err := New(Config{Physical: inmem.New(), DefaultLeaseTTL: 2 * time.Hour, MaxLeaseTTL: time.Hour}); err == nil {
		t.Fatal("default TTL above max accepted")
	}
}

func TestLifecycleErrors(t *testing.T) {
	ctx := context.Background()
	c, err := New(Config{Physical: inmem.New(), Factories: map[string]logical.Factory{"cubbyhole": cubbyhole.Factory}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation, Path: "sys/mounts"}); !errors.Is(err, logical.ErrSealed) {
		t.Fatalf("request before init: %v; want sealed", err)
	}
	if err := c.Unseal(ctx, make([]byte, 33)); !errors.Is(err, logical.ErrNotInitialized) {
		t.Fatalf("unseal before init: %v", err)
	}
	for _, p := range []InitParams{{SecretShares: 0}, {SecretShares: 3, SecretThreshold: 4}, {SecretShares: 2, SecretThreshold: 1}, {SecretShares: 1, SecretThreshold: 1, RecoveryShares: 3}} {
		if _, err := c.Initialize(ctx, p); logical.KindOf(err) != logical.KindInvalidRequest {
			t.Errorf("init %+v: %v; want invalid request", p, err)
		}
	}
	res, err := c.Initialize(ctx, InitParams{SecretShares: 3, SecretThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sealed() {
		t.Fatal("Shamir core unsealed after init")
	}
	if _, err := c.Initialize(ctx, InitParams{SecretShares: 1, SecretThreshold: 1}); !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second init: %v", err)
	}
	if err := c.Unseal(ctx, res.Keys[0]); err != nil || !c.Sealed() {
		t.Fatalf("one of two shares: %v, sealed=%v", err, c.Sealed())
	}
	if err := c.Unseal(ctx, res.Keys[0]); err == nil {
		t.Fatal("duplicate share accepted")
	}
	if err := c.Unseal(ctx, res.Keys[2]); err != nil || c.Sealed() {
		t.Fatalf("second share: %v, sealed=%v", err, c.Sealed())
	}
	resp, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.ReadOperation, Path: "auth/token/lookup-self", ClientToken: res.RootToken})
	if err != nil || resp.Data["policies"] == nil {
		t.Fatalf("lookup-self with the root token = %v, %v", resp, err)
	}
}

func TestRoute(t *testing.T) {
	mt := &mountTable{entries: map[string]*MountEntry{}}
	for _, p := range []string{"secret/", "team/kv/", "sys/", "auth/token/"} {
		mt.entries[p] = &MountEntry{Path: p}
	}
	for path, want := range map[string]string{
		"secret/data/x": "secret/", "secret": "secret/", "secret/": "secret/", "team/kv/a/b": "team/kv/",
		"team/other": "", "secretive/x": "", "auth/token/create": "auth/token/", "sys/mounts/secret": "sys/", "": "",
	} {
		m := mt.route(path)
		got := ""
		if m != nil {
			got = m.Path
		}
		if got != want {
			t.Errorf("route(%q) = %q; want %q", path, got, want)
		}
	}
}

func TestNormalizeMountPath(t *testing.T) {
	for in, want := range map[string]string{"secret": "secret/", "/a/b/": "a/b/", "team-1.kv@x": "team-1.kv@x/"} {
		if got, err := normalizeMountPath(in); err != nil || got != want {
			t.Errorf("normalizeMountPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/", "a//b", "a/../b", "a b", "a/*"} {
		if _, err := normalizeMountPath(bad); err == nil {
			t.Errorf("normalizeMountPath(%q) accepted", bad)
		}
	}
}

func TestMatchAny(t *testing.T) {
	pats := []string{"sys/rotate", "sys/audit/*"}
	for path, want := range map[string]bool{"sys/rotate": true, "sys/rotate/x": false, "sys/audit/file": true, "sys/audit": false} {
		if matchAny(pats, path) != want {
			t.Errorf("matchAny(%q) = %v", path, !want)
		}
	}
}

func TestDecodeRootToken(t *testing.T) {
	otp, err := randomOTP()
	if err != nil || len(otp) != OTPLength {
		t.Fatal(otp, err)
	}
	if _, err := DecodeRootToken("!!!", otp); err == nil {
		t.Fatal("bad base64 accepted")
	}
	if _, err := DecodeRootToken("YWJj", otp); err == nil {
		t.Fatal("length mismatch accepted")
	}
}
