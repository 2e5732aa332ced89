package kv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/engine/kv"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// vaultShim serves one KV v2 engine under /v1/secret/ with Vault's HTTP
// conventions as internal/httpapi applies them (nil response: 404;
// NoContent: 204; NotFound: 404 with the body), just enough for the
// official Go client to talk to it.
func vaultShim(t *testing.T) *vaultapi.Client {
	t.Helper()
	b, err := kv.Factory(t.Context(), &logical.BackendConfig{Options: map[string]string{"version": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	s := inmem.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &logical.Request{Path: strings.TrimPrefix(r.URL.Path, "/v1/secret/"), Storage: s, Data: map[string]any{}}
		for k, v := range r.URL.Query() {
			req.Data[k] = v[0]
		}
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		_ = dec.Decode(&req.Data)
		req.Operation = map[string]logical.Operation{"GET": logical.ReadOperation, "PUT": logical.UpdateOperation,
			"POST": logical.UpdateOperation, "DELETE": logical.DeleteOperation, "PATCH": logical.PatchOperation,
			"LIST": logical.ListOperation}[r.Method]
		if r.URL.Query().Get("list") == "true" {
			req.Operation = logical.ListOperation
		}
		resp, err := b.HandleRequest(r.Context(), req)
		writeShim(w, resp, err)
	}))
	t.Cleanup(srv.Close)
	c, err := vaultapi.NewClient(&vaultapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeShim(w http.ResponseWriter, resp *logical.Response, err error) {
	status, body := http.StatusOK, map[string]any{}
	switch {
	case err != nil:
		status = map[logical.Kind]int{logical.KindInvalidRequest: 400, logical.KindUnsupportedPath: 404}[logical.KindOf(err)]
		if status == 0 {
			status = 500
		}
		body["errors"] = []string{err.Error()}
	case resp == nil:
		status, body["errors"] = http.StatusNotFound, []string{}
	case resp.NoContent && resp.Data == nil && len(resp.Warnings) == 0:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		if resp.NotFound {
			status = http.StatusNotFound
		}
		body = map[string]any{"request_id": "r", "lease_id": "", "renewable": false, "lease_duration": 0,
			"data": resp.Data, "warnings": resp.Warnings, "wrap_info": nil, "auth": nil}
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// TestVaultClientKVv2Data drives data/, delete/, undelete/ and destroy/
// with the official Vault Go client.
func TestVaultClientKVv2Data(t *testing.T) {
	ctx := context.Background()
	kv2 := vaultShim(t).KVv2("secret")
	s, err := kv2.Put(ctx, "app/db", map[string]any{"user": "u", "pw": "one"})
	if err != nil || s.VersionMetadata.Version != 1 || s.VersionMetadata.CreatedTime.IsZero() {
		t.Fatalf("put v1 = %+v, %v", s, err)
	}
	if _, err := kv2.Put(ctx, "app/db", map[string]any{"user": "u", "pw": "two"}, vaultapi.WithCheckAndSet(1)); err != nil {
		t.Fatalf("put with cas: %v", err)
	}
	if _, err := kv2.Put(ctx, "app/db", map[string]any{"x": "y"}, vaultapi.WithCheckAndSet(1)); err == nil {
		t.Fatal("stale cas accepted")
	}
	if s, err = kv2.Patch(ctx, "app/db", map[string]any{"port": "5432", "user": nil}); err != nil || s.VersionMetadata.Version != 3 {
		t.Fatalf("patch = %+v, %v", s, err)
	}
	if s, err = kv2.Get(ctx, "app/db"); err != nil || s.Data["port"] != "5432" || s.Data["user"] != nil || s.Data["pw"] != "two" {
		t.Fatalf("get after patch = %+v, %v", s, err)
	}
	if s, err = kv2.GetVersion(ctx, "app/db", 1); err != nil || s.Data["pw"] != "one" {
		t.Fatalf("get v1 = %+v, %v", s, err)
	}
	// A deleted version reads as Vault's 404 with metadata: no error, no data.
	if err := kv2.Delete(ctx, "app/db"); err != nil {
		t.Fatal(err)
	}
	if s, err = kv2.Get(ctx, "app/db"); err != nil || s.Data != nil || s.VersionMetadata.DeletionTime.IsZero() {
		t.Fatalf("get deleted = %+v, %v", s, err)
	}
	if err := kv2.Undelete(ctx, "app/db", []int{3}); err != nil {
		t.Fatal(err)
	}
	if s, err = kv2.Get(ctx, "app/db"); err != nil || s.Data["port"] != "5432" {
		t.Fatalf("get undeleted = %+v, %v", s, err)
	}
	if err := kv2.DeleteVersions(ctx, "app/db", []int{2}); err != nil {
		t.Fatal(err)
	}
	if err := kv2.Destroy(ctx, "app/db", []int{1}); err != nil {
		t.Fatal(err)
	}
	if s, err = kv2.GetVersion(ctx, "app/db", 1); err != nil || s.Data != nil || !s.VersionMetadata.Destroyed {
		t.Fatalf("get destroyed = %+v, %v", s, err)
	}
	if _, err := kv2.Patch(ctx, "absent", map[string]any{"a": "b"}); !errors.Is(err, vaultapi.ErrSecretNotFound) {
		t.Fatalf("patch of absent secret: %v", err)
	}
}

// TestVaultClientKVv2Metadata drives metadata/ with the official Vault Go
// client, including its rollback (a read then a cas write).
func TestVaultClientKVv2Metadata(t *testing.T) {
	ctx := context.Background()
	c := vaultShim(t)
	kv2 := c.KVv2("secret")
	for _, pw := range []string{"one", "two"} {
		if _, err := kv2.Put(ctx, "app/db", map[string]any{"pw": pw}); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv2.PutMetadata(ctx, "app/db", vaultapi.KVMetadataPutInput{MaxVersions: 5, DeleteVersionAfter: time.Hour,
		CustomMetadata: map[string]any{"owner": "platform"}}); err != nil {
		t.Fatal(err)
	}
	cas := true
	if err := kv2.PatchMetadata(ctx, "app/db", vaultapi.KVMetadataPatchInput{CASRequired: &cas,
		CustomMetadata: map[string]any{"team": "sre"}}); err != nil {
		t.Fatal(err)
	}
	md, err := kv2.GetMetadata(ctx, "app/db")
	if err != nil || md.MaxVersions != 5 || !md.CASRequired || md.DeleteVersionAfter != time.Hour || md.CurrentVersion != 2 ||
		md.CustomMetadata["owner"] != "platform" || md.CustomMetadata["team"] != "sre" || len(md.Versions) != 2 || md.CreatedTime.IsZero() {
		t.Fatalf("metadata = %+v, %v", md, err)
	}
	if versions, err := kv2.GetVersionsAsList(ctx, "app/db"); err != nil || len(versions) != 2 || versions[1].Version != 2 {
		t.Fatalf("versions = %+v, %v", versions, err)
	}
	// Rollback needs a version with no deletion time, so version 1 (written
	// before delete_version_after) qualifies.
	if s, err := kv2.Rollback(ctx, "app/db", 1); err != nil || s.VersionMetadata.Version != 3 {
		t.Fatalf("rollback = %+v, %v", s, err)
	}
	if s, err := kv2.Get(ctx, "app/db"); err != nil || s.Data["pw"] != "one" {
		t.Fatalf("after rollback = %+v, %v", s, err)
	}
	list, err := c.Logical().List("secret/metadata/app")
	if err != nil || list == nil || len(list.Data["keys"].([]any)) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if err := kv2.DeleteMetadata(ctx, "app/db"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv2.Get(ctx, "app/db"); !errors.Is(err, vaultapi.ErrSecretNotFound) {
		t.Fatalf("get after metadata delete: %v", err)
	}
}
