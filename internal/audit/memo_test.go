package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// TestCallerMemo checks that a caller's token and accessor are written the
// same with and without a TokenID, that a memoised hash is never served
// for another accessor, and that a new key starts a new memo.
func TestCallerMemo(t *testing.T) {
	req := &logical.Request{ID: "r", Operation: logical.ReadOperation, Path: "secret/data/x"}
	entry := func(tok, acc, id string) *Entry {
		return NewRequestEntry(time.Unix(1700000000, 0), req, "secret/", &Caller{ClientToken: tok, Accessor: acc, TokenID: id}, nil)
	}
	key1 := []byte("0123456789abcdef0123456789abcdef")
	key2 := []byte("fedcba9876543210fedcba9876543210")
	tests := []struct {
		name      string
		hashAcc   bool
		key       []byte
		tok, acc  string
		id        string
		wantSame  *Entry // written identically to this entry (no TokenID)
		wantPlain string // must appear in the line
	}{
		{"first use", true, key1, "hvs.a", "acc-a", "id-a", entry("hvs.a", "acc-a", ""), ""},
		{"memo hit", true, key1, "hvs.a", "acc-a", "id-a", entry("hvs.a", "acc-a", ""), ""},
		{"other accessor, same id", true, key1, "hvs.a", "acc-b", "id-a", entry("hvs.a", "acc-b", ""), ""},
		{"plain accessor", false, key1, "hvs.a", "acc-a", "id-a", entry("hvs.a", "acc-a", ""), `"accessor":"acc-a"`},
		{"no accessor", true, key1, "hvs.c", "", "id-c", entry("hvs.c", "", ""), ""},
		{"new key", true, key2, "hvs.a", "acc-a", "id-a", entry("hvs.a", "acc-a", ""), ""},
	}
	h := &hasher{}
	var prevKey []byte
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(prevKey) != string(tc.key) {
				h.setKey(append([]byte(nil), tc.key...))
				prevKey = tc.key
			}
			h.hashAccessor = tc.hashAcc
			got := string(h.appendEntry(nil, entry(tc.tok, tc.acc, tc.id)))
			want := string(h.appendEntry(nil, tc.wantSame))
			if got != want {
				t.Errorf("with TokenID:    %s\nwithout TokenID: %s", got, want)
			}
			if !strings.Contains(got, `"client_token":"`+h.mac(tc.tok)+`"`) {
				t.Errorf("token not hashed with the current key: %s", got)
			}
			if tc.wantPlain != "" && !strings.Contains(got, tc.wantPlain) {
				t.Errorf("missing %s in %s", tc.wantPlain, got)
			}
			if strings.Contains(got, tc.tok) || strings.Contains(got, tc.id) || (tc.hashAcc && tc.acc != "" && strings.Contains(got, tc.acc)) {
				t.Errorf("plaintext written: %s", got)
			}
		})
	}
}

// TestCallerMemoBounded checks the memo starts over past its bound.
func TestCallerMemoBounded(t *testing.T) {
	h := &hasher{hashAccessor: true}
	h.setKey([]byte("0123456789abcdef0123456789abcdef"))
	for i := range maxMemoCallers + 10 {
		id := strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String()
		h.callers.get(h, &Auth{ClientToken: "t", Accessor: "a", tokenID: id})
	}
	n := 0
	h.callers.m.Range(func(any, any) bool { n++; return true })
	if n == 0 || n > maxMemoCallers {
		t.Errorf("memo holds %d callers, want 1..%d", n, maxMemoCallers)
	}
}
