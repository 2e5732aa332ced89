package audit

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// TestAppendEntryMatchesRedact checks the hand-written encoder against the
// reference json.Marshal(redact(e)) on entries with every field kind.
func TestAppendEntryMatchesRedact(t *testing.T) {
	data := map[string]any{
		"s": "plain <&> \"quoted\" \\ \n\t\x01 \u2028 é 🔑 \xff", "n": json.Number("12.5"), "i": 3, "f": 1.5,
		"b": true, "null": nil, "list": []any{"a", 1, map[string]any{"k": "v"}}, "ss": []string{"x", "y"},
		"ms": map[string]string{"a": "b"}, "d": 5 * time.Second, "empty": "",
	}
	req := &logical.Request{ID: "r1", Operation: logical.UpdateOperation, Path: "secret/data/x", Data: data,
		RemoteAddr: "10.0.0.1", WrapTTL: time.Minute,
		Headers: map[string][]string{"User-Agent": {"curl"}, "X-Request-Id": {"a", "b"}, "X-Other": {"no"}}}
	caller := &Caller{ClientToken: "hvs.tok", Accessor: "acc", DisplayName: "d", Policies: []string{"p1", "p2"}, EntityID: "e", TokenType: "service"}
	resp := &logical.Response{Data: data, Warnings: []string{"careful <x>"}, Secret: &logical.Secret{LeaseID: "lease/1"},
		Auth: &logical.Auth{ClientToken: "hvs.new", Accessor: "acc2", Policies: []string{"default"}}}
	wrapped := &logical.Response{WrapInfo: &logical.WrapInfo{Token: "hvs.wrap", Accessor: "wacc", TTL: time.Minute,
		CreationPath: "secret/data/x", WrappedAccessor: "inner"}}
	now := time.Unix(1700000000, 0)
	entries := map[string]*Entry{
		"request":  NewRequestEntry(now, req, "secret/", caller, nil),
		"denied":   NewRequestEntry(now, &logical.Request{Operation: logical.ReadOperation, Path: "x"}, "", nil, logical.ErrPermissionDenied),
		"response": NewResponseEntry(now, req, "secret/", caller, resp, 200, nil),
		"wrapped":  NewResponseEntry(now, req, "secret/", caller, wrapped, 200, nil),
		"event":    NewEventEntry(now, TypeResponse, "id", "update", "sys/unseal", "1.2.3.4", 400, logical.InvalidRequest("bad")),
	}
	hashers := map[string]*hasher{
		"keyed":          {hashAccessor: true, headers: []string{"User-Agent", "X-Request-Id", "Absent"}},
		"plain accessor": {hashAccessor: false},
		"raw":            {raw: true, hashAccessor: true},
		"sealed":         {hashAccessor: true},
	}
	for hn, h := range hashers {
		if hn != "sealed" {
			h.setKey([]byte("0123456789abcdef0123456789abcdef"))
		}
		for en, e := range entries {
			t.Run(hn+"/"+en, func(t *testing.T) {
				want, err := json.Marshal(h.redact(e))
				if err != nil {
					t.Fatal(err)
				}
				got := h.appendEntry(nil, e)
				var gv, wv any
				if err := json.Unmarshal(got, &gv); err != nil {
					t.Fatalf("invalid JSON %s: %v", got, err)
				}
				if err := json.Unmarshal(want, &wv); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gv, wv) {
					t.Errorf("got  %s\nwant %s", got, want)
				}
				wantHdr := hn == "keyed" && (en == "request" || en == "response" || en == "wrapped")
				if hasHdr := strings.Contains(string(got), `"headers":{"User-Agent":["curl"],"X-Request-Id":["a","b"]}`); hasHdr != wantHdr || strings.Contains(string(got), "X-Other") {
					t.Errorf("headers written: %v, want %v: %s", hasHdr, wantHdr, got)
				}
			})
		}
	}
}
