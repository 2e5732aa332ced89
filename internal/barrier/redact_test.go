package barrier

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestKeyTypesRedacted(t *testing.T) {
	b, _, root := newUnsealed(t)
	kr := b.kr
	tk := kr.active
	values := map[string]any{
		"secretKey":   *kr.root,
		"*secretKey":  kr.root,
		"termKey":     tk,
		"keyring":     kr,
		"*pathCipher": kr.paths,
		"*Barrier":    b,
	}
	secrets := [][]byte{root, tk.key.b[:], kr.paths.key.b[:], kr.paths.macKey.b[:]}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
				fmt.Fprintf(&buf, verb+"\n", v)
			}
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "k", v)
			slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "k", v)
			assertNoSecret(t, buf.String(), secrets)
			if name != "*Barrier" && !strings.Contains(buf.String(), redactedText) {
				t.Errorf("output does not say %s:\n%s", redactedText, buf.String())
			}
		})
	}
}

// assertNoSecret fails if out holds any secret raw, in hex, or as decimal
// bytes (fmt's %v of a byte array).
func assertNoSecret(t *testing.T, out string, secrets [][]byte) {
	t.Helper()
	for _, s := range secrets {
		forms := []string{string(s), hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)), strings.Trim(fmt.Sprint(s[:8]), "[]")}
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Fatalf("output leaks key material %q:\n%s", f, out)
			}
		}
	}
}
