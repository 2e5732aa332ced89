package approle

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"github.com/cofferdev/coffer/internal/storage"
)

func TestRedaction(t *testing.T) {
	r := &role{Name: "r", RoleID: "role-id-value-123"}
	key := hmacKey("0123456789abcdef0123456789abcdef")
	var buf logicaltest.LogBuffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "role", r, "key", key)
	for _, out := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprint(key), fmt.Sprintf("%#v", key), buf.String()} {
		if !strings.Contains(out, "[REDACTED]") || strings.Contains(out, "role-id-value") || strings.Contains(out, "0123456789") {
			t.Errorf("not redacted: %s", out)
		}
	}
}

func TestCorruptEntries(t *testing.T) {
	tests := []struct {
		name, key, path string
		data            map[string]any
	}{
		{"hmac key", hmacKeyPath, "login", map[string]any{"role_id": "x", "secret_id": "y"}},
		{"role", rolePrefix + "r", "role/r", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if err := e.Storage.Put(context.Background(), &storage.Entry{Key: tt.key, Value: []byte("{not json")}); err != nil {
				t.Fatal(err)
			}
			e.open()
			op := logical.UpdateOperation
			if tt.data == nil {
				op = logical.ReadOperation
			}
			if _, err := e.Do(op, tt.path, tt.data); err != ErrCorruptEntry {
				t.Errorf("err = %v, want ErrCorruptEntry", err)
			}
		})
	}
}

// TestHMACDomainSeparation checks the three labels give different HMACs for
// one value, and that the same value and label always hash alike.
func TestHMACDomainSeparation(t *testing.T) {
	k := hmacKey(make([]byte, hmacKeyLen))
	seen := map[string]string{}
	for _, label := range []string{labelSecretID, labelAccessor, labelRoleID} {
		h := k.sum(label, "value")
		if other, ok := seen[h]; ok {
			t.Errorf("%s and %s collide", label, other)
		}
		seen[h] = label
		if k.sum(label, "value") != h || k.sum(label, "valuf") == h {
			t.Errorf("%s: hash not deterministic or not value-dependent", label)
		}
	}
}
