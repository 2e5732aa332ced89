package transit

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func TestAutoRotation(t *testing.T) {
	e := newEnv(t)
	e.write("keys/daily", map[string]any{"auto_rotate_period": "24h"})
	e.write("keys/manual", nil)
	ctx := context.Background()
	for _, tc := range []struct {
		advance       time.Duration
		daily, manual int
	}{
		{23 * time.Hour, 1, 1},
		{time.Hour, 2, 1},
		{time.Hour, 2, 1},
		{23 * time.Hour, 3, 1},
	} {
		e.clock.Advance(tc.advance)
		if err := e.b.RotateDue(ctx); err != nil {
			t.Fatal(err)
		}
		if d, m := e.read("keys/daily")["latest_version"], e.read("keys/manual")["latest_version"]; d != tc.daily || m != tc.manual {
			t.Fatalf("after +%v: daily v%v manual v%v; want v%d v%d", tc.advance, d, m, tc.daily, tc.manual)
		}
	}
	if !strings.Contains(e.logs.String(), "key=daily") {
		t.Fatalf("rotation not logged: %s", e.logs.String())
	}
}

// TestAutoRotationSurvivesRestart: the period and the latest version's
// creation time are stored, so a new backend (an unseal) rotates a key that
// fell due while the server was down.
func TestAutoRotationSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	e.write("keys/k/config", map[string]any{"auto_rotate_period": "1h"})
	e.b.Cleanup(context.Background())
	e.clock.Advance(2 * time.Hour)
	e.b = e.open(-1)
	if err := e.b.RotateDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := e.read("keys/k")["latest_version"]; v != 2 {
		t.Fatalf("after restart and due time: v%v", v)
	}
}

// TestAutoRotationTicker checks the background task runs RotateDue by
// itself: it waits (without a timing assertion) for the rotation.
func TestAutoRotationTicker(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", map[string]any{"auto_rotate_period": "1h"})
	e.clock.Advance(time.Hour)
	e.b = e.open(time.Millisecond)
	for e.b.store.cached("k") == nil || e.read("keys/k")["latest_version"] != 2 {
		if t.Context().Err() != nil {
			t.Fatal("ticker never rotated the key")
		}
		time.Sleep(time.Millisecond)
	}
	e.b.Cleanup(context.Background())
	e.b.Cleanup(context.Background()) // idempotent
}

// TestConcurrentRotateEncrypt runs rotations against encrypts and decrypts
// (meaningful under -race): every ciphertext decrypts afterwards.
func TestConcurrentRotateEncrypt(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	var wg sync.WaitGroup
	cts := make(chan string, 400)
	for range 4 {
		wg.Go(func() {
			for range 100 {
				resp, err := e.req(logical.UpdateOperation, "encrypt/k", map[string]any{"plaintext": b64("p")})
				if err != nil {
					t.Error(err)
					return
				}
				cts <- resp.Data["ciphertext"].(string)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := e.req(logical.UpdateOperation, "keys/k/rotate", nil); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	close(cts)
	for ct := range cts {
		if got := e.decrypt("k", ct, nil); got != "p" {
			t.Fatalf("decrypt %q = %q", ct, got)
		}
	}
	if v := e.read("keys/k")["latest_version"]; v != 21 {
		t.Fatalf("latest_version = %v; want 21", v)
	}
}

// TestNoKeyMaterialInLogsOrErrors exports every secret a key holds and
// checks none shows in the logs, in errors, or when the key is printed.
func TestNoKeyMaterialInLogsOrErrors(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", map[string]any{"exportable": true, "auto_rotate_period": "1h"})
	enc := e.read("export/encryption-key/k/1")["keys"].(map[string]string)["1"]
	mac := e.read("export/hmac-key/k/1")["keys"].(map[string]string)["1"]
	var errs []string
	for _, d := range []map[string]any{
		{"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(make([]byte, 40))},
		{"ciphertext": "vault:v1:" + enc}, {"ciphertext": enc},
	} {
		if _, err := e.req(logical.UpdateOperation, "decrypt/k", d); err != nil {
			errs = append(errs, err.Error())
		}
	}
	e.clock.Advance(time.Hour)
	if err := e.b.RotateDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := e.b.store.cached("k")
	printed := strings.Join(errs, "\n") + e.logs.String() + p.String() + p.Keys[1].String()
	for _, secret := range []string{enc, mac} {
		if strings.Contains(printed, secret) {
			t.Fatalf("key material printed: %s", printed)
		}
	}
	if len(errs) != 3 {
		t.Fatalf("errors = %v", errs)
	}
}

// TestStandbyStartsNoRotation: a standby's copy of the mount must not
// rotate keys (its writes would be refused; the active node's copy
// rotates), so it starts no ticker.
func TestStandbyStartsNoRotation(t *testing.T) {
	for _, standby := range []bool{false, true} {
		b, err := New(context.Background(), &logical.BackendConfig{Storage: inmem.New(), MountPath: "transit/", Standby: standby},
			Options{RotateCheckInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if started := b.cancel != nil; started == standby {
			t.Errorf("standby=%v: rotation task started=%v", standby, started)
		}
		b.Cleanup(context.Background())
	}
}
