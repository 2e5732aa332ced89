package userpass

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := hashPassword("pässword")
	if err != nil {
		t.Fatal(err)
	}
	if h.Time != argonTime || h.Memory != argonMemory || h.Threads != argonThreads || len(h.Salt) != saltLen || len(h.Hash) != argonKeyLen {
		t.Fatalf("parameters = t%d m%d p%d salt %d hash %d", h.Time, h.Memory, h.Threads, len(h.Salt), len(h.Hash))
	}
	h2, err := hashPassword("pässword")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(h.Salt, h2.Salt) || bytes.Equal(h.Hash, h2.Hash) {
		t.Error("two hashes of one password share salt or hash")
	}
	mutate := func(f func(*passwordHash)) passwordHash {
		c := h
		c.Salt = bytes.Clone(h.Salt)
		c.Hash = bytes.Clone(h.Hash)
		f(&c)
		return c
	}
	tests := []struct {
		name     string
		h        passwordHash
		password string
		want     bool
	}{
		{"right", h, "pässword", true},
		{"wrong", h, "password", false},
		{"empty", h, "", false},
		{"flipped hash bit", mutate(func(c *passwordHash) { c.Hash[0] ^= 1 }), "pässword", false},
		{"other salt", mutate(func(c *passwordHash) { c.Salt[0] ^= 1 }), "pässword", false},
		{"other time", mutate(func(c *passwordHash) { c.Time = 1 }), "pässword", false},
		{"unknown alg", mutate(func(c *passwordHash) { c.Alg = "bcrypt" }), "pässword", false},
		{"huge memory", mutate(func(c *passwordHash) { c.Memory = 1 << 30 }), "pässword", false},
		{"zero time", mutate(func(c *passwordHash) { c.Time = 0 }), "pässword", false},
		{"short hash", mutate(func(c *passwordHash) { c.Hash = c.Hash[:4] }), "pässword", false},
		{"zero value", passwordHash{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.verify(tt.password); got != tt.want {
				t.Errorf("verify = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHashRoundTrip checks a hash survives JSON storage.
func TestHashRoundTrip(t *testing.T) {
	h, err := hashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back passwordHash
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !back.verify("pw") || back.verify("pW") {
		t.Error("hash does not round-trip through JSON")
	}
}

// TestCorruptUser checks a stored user that does not decode gives the
// sentinel error, not the decoder's text.
func TestCorruptUser(t *testing.T) {
	e := newEnv(t)
	e.Must("update", "users/alice", map[string]any{"password": "pw"})
	raw, err := e.Storage.Get(context.Background(), userPrefix+"alice")
	if err != nil {
		t.Fatal(err)
	}
	raw.Value = raw.Value[:len(raw.Value)/2]
	if err := e.Storage.Put(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Do("update", "login/alice", map[string]any{"password": "pw"}); err != ErrCorruptEntry {
		t.Errorf("login over corrupt entry: %v", err)
	}
}
