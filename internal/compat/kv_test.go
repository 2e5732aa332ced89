package compat

import (
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestKVv2(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	ctx := t.Context()
	kv := in.Client.KVv2("secret")

	v1, err := kv.Put(ctx, "app/db", map[string]any{"user": "app", "password": "hunter2-v1"})
	if err != nil || v1.VersionMetadata.Version != 1 {
		t.Fatalf("put v1 = %+v, %v", v1, err)
	}
	if _, err := kv.Put(ctx, "app/db", map[string]any{"user": "app", "password": "hunter2-v2"}); err != nil {
		t.Fatal(err)
	}
	s, err := kv.Get(ctx, "app/db")
	if err != nil || s.Data["password"] != "hunter2-v2" || s.VersionMetadata.Version != 2 {
		t.Fatalf("get latest = %+v, %v", s, err)
	}
	if s, err = kv.GetVersion(ctx, "app/db", 1); err != nil || s.Data["password"] != "hunter2-v1" {
		t.Fatalf("get v1 = %+v, %v", s, err)
	}

	// Check-and-set.
	if _, err := kv.Put(ctx, "app/db", map[string]any{"x": "y"}, vaultapi.WithCheckAndSet(1)); err == nil {
		t.Fatal("put with stale cas succeeded")
	}
	if _, err := kv.Put(ctx, "app/db", map[string]any{"user": "app", "password": "hunter2-v3"}, vaultapi.WithCheckAndSet(2)); err != nil {
		t.Fatalf("put with current cas: %v", err)
	}

	// Patch merges.
	if _, err := kv.Patch(ctx, "app/db", map[string]any{"port": "5432"}); err != nil {
		t.Fatalf("patch: %v", err)
	}
	if s, _ = kv.Get(ctx, "app/db"); s.Data["port"] != "5432" || s.Data["password"] != "hunter2-v3" || s.VersionMetadata.Version != 4 {
		t.Fatalf("after patch = %+v", s.Data)
	}

	// Soft delete, undelete, destroy.
	if err := kv.Delete(ctx, "app/db"); err != nil {
		t.Fatal(err)
	}
	// As with Vault, a deleted version reads as nil data plus its deletion time.
	if s, err := kv.Get(ctx, "app/db"); err == nil && (s.Data != nil || s.VersionMetadata.DeletionTime.IsZero()) {
		t.Fatalf("deleted latest version still readable: %+v", s)
	}
	if r := rawDo(t, in, "GET", "/v1/secret/data/app/db", in.RootToken, nil); r.StatusCode != 404 || !strings.Contains(r.Body, `"deletion_time"`) {
		t.Fatalf("raw read of deleted version = %d %s; want 404 with metadata", r.StatusCode, r.Body)
	}
	if err := kv.Undelete(ctx, "app/db", []int{4}); err != nil {
		t.Fatal(err)
	}
	if s, err = kv.Get(ctx, "app/db"); err != nil || s.Data["port"] != "5432" {
		t.Fatalf("after undelete = %v, %v", s, err)
	}
	if err := kv.Destroy(ctx, "app/db", []int{1}); err != nil {
		t.Fatal(err)
	}
	if s, err := kv.GetVersion(ctx, "app/db", 1); err == nil && (s.Data != nil || !s.VersionMetadata.Destroyed) {
		t.Fatalf("destroyed version readable: %+v", s)
	}

	// Metadata.
	if err := kv.PutMetadata(ctx, "app/db", vaultapi.KVMetadataPutInput{MaxVersions: 3,
		CustomMetadata: map[string]any{"owner": "platform"}}); err != nil {
		t.Fatalf("put metadata: %v", err)
	}
	md, err := kv.GetMetadata(ctx, "app/db")
	if err != nil || md.MaxVersions != 3 || md.CurrentVersion != 4 || md.CustomMetadata["owner"] != "platform" || !md.Versions["1"].Destroyed {
		t.Fatalf("metadata = %+v, %v", md, err)
	}
	list, err := in.Client.Logical().List("secret/metadata/app")
	if err != nil || list == nil {
		t.Fatalf("list = %v, %v", list, err)
	}
	if keys, _ := list.Data["keys"].([]any); len(keys) != 1 || keys[0] != "db" {
		t.Fatalf("list keys = %v", list.Data["keys"])
	}
	if err := kv.DeleteMetadata(ctx, "app/db"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.GetMetadata(ctx, "app/db"); err == nil {
		t.Fatal("metadata survives delete")
	}
	in.CheckNoLeaks(t, "hunter2-v1", "hunter2-v2", "hunter2-v3")
}

func TestKVv1AndCubbyhole(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().Mount("kv1", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	kv := in.Client.KVv1("kv1")
	if err := kv.Put(t.Context(), "a/b", map[string]any{"k": "v1-value"}); err != nil {
		t.Fatal(err)
	}
	s, err := kv.Get(t.Context(), "a/b")
	if err != nil || s.Data["k"] != "v1-value" {
		t.Fatalf("kv1 get = %v, %v", s, err)
	}
	if l, err := in.Client.Logical().List("kv1/"); err != nil || l == nil || l.Data["keys"].([]any)[0] != "a/" {
		t.Fatalf("kv1 list = %v, %v", l, err)
	}

	// `vault kv enable-versioning kv1/` tunes options.version to 2: the
	// secret becomes version 1 and the KV v2 client reads it.
	if err := in.Client.Sys().TuneMountAllowNil("kv1", vaultapi.TuneMountConfigInput{Options: &map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("enable versioning: %v", err)
	}
	v2, err := in.Client.KVv2("kv1").Get(t.Context(), "a/b")
	if err != nil || v2.Data["k"] != "v1-value" || v2.VersionMetadata.Version != 1 {
		t.Fatalf("kv2 get after the upgrade = %+v, %v", v2, err)
	}
	if _, err := in.Client.KVv2("kv1").Put(t.Context(), "a/b", map[string]any{"k": "v2-value"}); err != nil {
		t.Fatal(err)
	}
	if err := in.Client.Sys().TuneMountAllowNil("kv1", vaultapi.TuneMountConfigInput{Options: &map[string]string{"version": "1"}}); !isStatus(err, 400) {
		t.Fatalf("back to version 1: %v; want 400", err)
	}

	// Each token sees only its own cubbyhole.
	a := in.NewClient(t, createToken(t, in, &vaultapi.TokenCreateRequest{}))
	b := in.NewClient(t, createToken(t, in, &vaultapi.TokenCreateRequest{}))
	if _, err := a.Logical().Write("cubbyhole/note", map[string]any{"msg": "for-a-only"}); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Logical().Read("cubbyhole/note"); err != nil || s.Data["msg"] != "for-a-only" {
		t.Fatalf("own cubbyhole = %v, %v", s, err)
	}
	if s, err := b.Logical().Read("cubbyhole/note"); err != nil || s != nil {
		t.Fatalf("other token's cubbyhole read = %v, %v; want nothing", s, err)
	}
}
