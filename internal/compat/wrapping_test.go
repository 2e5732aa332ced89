package compat

import (
	"testing"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestResponseWrapping(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	if _, err := in.Client.KVv2("secret").Put(t.Context(), "wrapped", map[string]any{"k": "wrapped-value"}); err != nil {
		t.Fatal(err)
	}
	wc, err := in.Client.Clone()
	if err != nil {
		t.Fatal(err)
	}
	wc.SetToken(in.RootToken)
	wc.SetWrappingLookupFunc(func(op, path string) string { return "5m" })
	w, err := wc.Logical().Read("secret/data/wrapped")
	if err != nil || w.WrapInfo == nil || w.WrapInfo.Token == "" || w.WrapInfo.TTL != 300 || w.Data != nil {
		t.Fatalf("wrapped read = %+v, %v", w, err)
	}
	if w.WrapInfo.CreationPath != "secret/data/wrapped" {
		t.Fatalf("creation path = %q", w.WrapInfo.CreationPath)
	}
	look, err := in.Client.Logical().Write("sys/wrapping/lookup", map[string]any{"token": w.WrapInfo.Token})
	if err != nil || look.Data["creation_path"] != "secret/data/wrapped" {
		t.Fatalf("wrapping lookup = %v, %v", look, err)
	}
	// A wrapping token can do nothing but unwrap.
	if _, err := in.NewClient(t, w.WrapInfo.Token).Logical().Read("secret/data/wrapped"); !isStatus(err, 403) {
		t.Fatalf("wrapping token used for a read: %v; want 403", err)
	}
	un, err := in.NewClient(t, "").Logical().Unwrap(w.WrapInfo.Token)
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	inner, _ := un.Data["data"].(map[string]any)
	if inner["k"] != "wrapped-value" {
		t.Fatalf("unwrapped data = %v", un.Data)
	}
	if _, err := in.NewClient(t, "").Logical().Unwrap(w.WrapInfo.Token); err == nil {
		t.Fatal("second unwrap succeeded")
	}

	// sys/wrapping/wrap and rewrap.
	w2, err := wc.Logical().Write("sys/wrapping/wrap", map[string]any{"handoff": "secret-handoff"})
	if err != nil || w2.WrapInfo == nil {
		t.Fatalf("wrap = %+v, %v", w2, err)
	}
	re, err := in.Client.Logical().Write("sys/wrapping/rewrap", map[string]any{"token": w2.WrapInfo.Token})
	if err != nil || re.WrapInfo == nil || re.WrapInfo.Token == w2.WrapInfo.Token {
		t.Fatalf("rewrap = %+v, %v", re, err)
	}
	if _, err := in.Client.Logical().Unwrap(w2.WrapInfo.Token); err == nil {
		t.Fatal("old token unwraps after rewrap")
	}
	un, err = in.Client.Logical().Unwrap(re.WrapInfo.Token)
	if err != nil || un.Data["handoff"] != "secret-handoff" {
		t.Fatalf("unwrap after rewrap = %v, %v", un, err)
	}
	in.CheckNoLeaks(t, "wrapped-value", "secret-handoff", w.WrapInfo.Token)
}
