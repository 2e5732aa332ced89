package audit

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// testKeys returns keys for the named sinks with a fixed signing seed.
func testKeys(names ...string) (Keys, ed25519.PublicKey) {
	k := Keys{HMAC: map[string][]byte{}, Signing: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))}
	for i, n := range names {
		k.HMAC[n] = bytes.Repeat([]byte{byte(i + 1)}, 32)
	}
	return k, k.Signing.Public().(ed25519.PublicKey)
}

func fileSink(path string, every int) SinkConfig {
	return SinkConfig{Type: "file", Name: "file", Path: path, FileMode: 0o600, HMACAccessor: true,
		CheckpointEntries: every, CheckpointInterval: time.Hour}
}

func newTestBroker(t testing.TB, cfgs ...SinkConfig) *Broker {
	t.Helper()
	b, err := NewBroker(cfgs, BrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// sampleEntry is a request entry carrying a secret value and token.
func sampleEntry(i int) *Entry {
	req := &logical.Request{ID: fmt.Sprintf("req-%d", i), Operation: logical.UpdateOperation,
		Path: "secret/data/app", Data: map[string]any{"password": fmt.Sprintf("hunter%d", i), "n": 3},
		RemoteAddr: "127.0.0.1"}
	return NewRequestEntry(time.Unix(1700000000, 0), req, "secret/", &Caller{ClientToken: "hvs.secrettoken",
		Accessor: "acc123", Policies: []string{"root"}}, nil)
}

// writeLog writes n entries through a file sink checkpointing every `every`
// entries, closes it and returns its bytes and public key.
func writeLog(t testing.TB, n, every int) ([]byte, ed25519.PublicKey) {
	t.Helper()
	entries := make([]*Entry, n)
	for i := range entries {
		entries[i] = sampleEntry(i)
	}
	return writeEntries(t, every, entries...)
}

// writeEntries writes entries through a file sink checkpointing every
// `every` entries, closes it and returns its bytes and public key.
func writeEntries(t testing.TB, every int, entries ...*Entry) ([]byte, ed25519.PublicKey) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	b := newTestBroker(t, fileSink(path, every))
	keys, pub := testKeys("file")
	if err := b.Unlock(keys); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := b.Log(e); err != nil {
			t.Fatal(err)
		}
	}
	return closeAndRead(t, b, path), pub
}

// closeAndRead closes b and returns the bytes of its file sink at path.
func closeAndRead(t testing.TB, b *Broker, path string) []byte {
	t.Helper()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func splitLines(data []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func joinLines(lines [][]byte) []byte {
	return append(bytes.Join(lines, []byte("\n")), '\n')
}
