package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretsDoNotPrint checks that option values that may be secret never
// reach fmt output or logs, while harmless ones stay readable.
func TestSecretsDoNotPrint(t *testing.T) {
	const pin, dsn, unknown = "pin-8e1f", "postgres://u:pw-77d0@db/coffer", "mystery-41aa"
	c := DevConfig("")
	c.Seal = &Seal{Type: "pkcs11", Options: map[string]string{"lib": "/lib.so", "key_label": "k", "pin": pin}}
	c.Storage = Storage{Type: "postgresql", Options: map[string]string{"connection_url": dsn, "table": "kv", "extra": unknown}}

	var logs bytes.Buffer
	for _, format := range []string{"text", "json"} {
		var h slog.Handler = slog.NewTextHandler(&logs, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&logs, nil)
		}
		slog.New(h).Info("config", "config", c, "seal", c.Seal, "storage", c.Storage)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", c),
		"%+v":  fmt.Sprintf("%+v", c),
		"%#v":  fmt.Sprintf("%#v %#v", c.Seal, c.Storage),
		"%s":   fmt.Sprintf("%s %s", c.Seal, c.Storage),
		"slog": logs.String(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, secret := range []string{pin, "pw-77d0", unknown} {
				if strings.Contains(out, secret) {
					t.Errorf("output contains %q:\n%s", secret, out)
				}
			}
			if !strings.Contains(out, "/lib.so") && !strings.Contains(out, "kv") {
				t.Errorf("output lost the non-secret options:\n%s", out)
			}
		})
	}
	want := `seal "pkcs11" {key_label="k" lib="/lib.so" pin=[REDACTED]}`
	if got := c.Seal.String(); got != want {
		t.Errorf("Seal.String() = %s, want %s", got, want)
	}
}
