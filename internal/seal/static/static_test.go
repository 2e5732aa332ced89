package static

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/seal"
)

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, seal.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func writeFile(t *testing.T, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not subject to the umask
		t.Fatal(err)
	}
	return path
}

// wrappedBy returns a blob wrapped with key under the static seal's AAD.
func wrappedBy(t *testing.T, key, plaintext []byte) []byte {
	t.Helper()
	blob, err := seal.WrapWithKey(key, plaintext, []byte(seal.TypeStatic))
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

func TestLoadFormats(t *testing.T) {
	key := randomKey(t)
	b64 := base64.StdEncoding.EncodeToString(key)
	hx := hex.EncodeToString(key)
	tests := map[string]string{
		"base64":             b64,
		"base64 newline":     b64 + "\n",
		"base64 crlf":        b64 + "\r\n",
		"base64 unpadded":    base64.RawStdEncoding.EncodeToString(key) + "\n",
		"hex":                hx,
		"hex upper newline":  strings.ToUpper(hx) + "\n",
		"hex trailing space": hx + "  \n",
		"raw":                string(key),
	}
	ctx := context.Background()
	root := []byte("the barrier root key, 32 bytes!!")
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := Load(writeFile(t, []byte(content), 0o600))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got, err := s.Unwrap(ctx, wrappedBy(t, key, root))
			if err != nil || !bytes.Equal(got, root) {
				t.Fatalf("Unwrap = %v; the loaded key differs from the file's key", err)
			}
		})
	}
}

func TestLoadPermissions(t *testing.T) {
	content := []byte(base64.StdEncoding.EncodeToString(randomKey(t)))
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700, 0o640, 0o604, 0o644, 0o660, 0o610, 0o601, 0o666} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			_, err := Load(writeFile(t, content, mode))
			if secure := mode&0o077 == 0; secure != (err == nil) {
				t.Fatalf("Load = %v; want success %v", err, secure)
			}
			if err != nil && (!errors.Is(err, ErrInsecureFile) || !strings.Contains(err.Error(), fmt.Sprintf("%04o", mode))) {
				t.Fatalf("Load = %v; want ErrInsecureFile naming the mode", err)
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	key := randomKey(t)
	hx := hex.EncodeToString(key)
	b64 := base64.StdEncoding.EncodeToString(key)
	tests := map[string]string{
		"empty":               "",
		"newline":             "\n",
		"16-byte hex":         hex.EncodeToString(key[:16]) + "\n",
		"31 raw bytes":        string(key[:31]),
		"33 raw bytes":        string(key) + "x",
		"64 bytes raw":        string(key) + string(key),
		"bad hex character":   "g" + hx[1:],
		"bad base64":          "!" + b64[1:],
		"base64 bad padding":  b64[:43] + "A",
		"leading space hex":   " " + hx,
		"hex with inner line": hx[:32] + "\n" + hx[32:],
		"too large":           strings.Repeat("\n", maxFileSize) + "x",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeFile(t, []byte(content), 0o600))
			if !errors.Is(err, ErrInvalidKeyFile) {
				t.Fatalf("Load = %v; want ErrInvalidKeyFile", err)
			}
			for _, piece := range []string{hx[:8], hx[1:9], b64[1:9], "'g'", "'!'"} {
				if strings.Contains(err.Error(), piece) {
					t.Fatalf("error %q quotes key material %q", err, piece)
				}
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if _, err := Load(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Load = %v; want fs.ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); !errors.Is(err, ErrInvalidKeyFile) {
			t.Fatalf("Load(dir) = %v; want ErrInvalidKeyFile", err)
		}
	})
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := Generate(path); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("generated file mode %04o; want 0600", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(data), "\n"))
	if err != nil || len(key) != seal.KeySize || !strings.HasSuffix(string(data), "\n") {
		t.Fatalf("generated file is not base64 of 32 bytes and a newline: %v", err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatalf("Load(generated): %v", err)
	}
	root := randomKey(t)
	if got, err := s.Unwrap(context.Background(), wrappedBy(t, key, root)); err != nil || !bytes.Equal(got, root) {
		t.Fatalf("loaded key differs from the generated one: %v", err)
	}
	if err := Generate(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Generate over an existing file = %v; want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, data) {
		t.Fatal("Generate overwrote an existing key file")
	}
	other := filepath.Join(dir, "other")
	if err := Generate(other); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(other); bytes.Equal(second, data) {
		t.Fatal("two generated keys are equal")
	}
}

func TestSealWrapUnwrap(t *testing.T) {
	ctx := context.Background()
	s, err := Parse(randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.Type() != seal.TypeStatic || !seal.IsAuto(s) {
		t.Fatalf("Type = %q, IsAuto = %v; want static, true", s.Type(), seal.IsAuto(s))
	}
	root := randomKey(t)
	blob, err := s.Wrap(ctx, root)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if got, err := s.Unwrap(ctx, blob); err != nil || !bytes.Equal(got, root) {
		t.Fatalf("Unwrap = %v; want the root key", err)
	}
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 0x04
		if _, err := s.Unwrap(ctx, bad); !errors.Is(err, seal.ErrUnwrap) {
			t.Fatalf("Unwrap(byte %d flipped) = %v; want ErrUnwrap", i, err)
		}
	}
	other, err := Parse(randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Unwrap(ctx, blob); !errors.Is(err, seal.ErrUnwrap) {
		t.Fatalf("Unwrap with another key = %v; want ErrUnwrap", err)
	}
}

func TestSealRedacted(t *testing.T) {
	key := randomKey(t)
	s, err := Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		fmt.Fprintf(&buf, verb+"\n", s)
	}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "seal", s)
	out := buf.String()
	for _, leak := range []string{hex.EncodeToString(key), string(key), strings.Trim(fmt.Sprint(key[:6]), "[]")} {
		if strings.Contains(out, leak) {
			t.Fatalf("output leaks the key:\n%s", out)
		}
	}
	if !strings.Contains(out, "[REDACTED]") {
		t.Fatalf("output is not redacted:\n%s", out)
	}
}

func FuzzParse(f *testing.F) {
	key := bytes.Repeat([]byte{0x42}, seal.KeySize)
	f.Add(key)
	f.Add([]byte(base64.StdEncoding.EncodeToString(key) + "\n"))
	f.Add([]byte(hex.EncodeToString(key) + "\r\n"))
	f.Add([]byte(base64.RawStdEncoding.EncodeToString(key)))
	f.Add([]byte{})
	f.Add([]byte("not a key\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidKeyFile) {
				t.Fatalf("Parse error %v does not wrap ErrInvalidKeyFile", err)
			}
			return
		}
		if len(s.key) != seal.KeySize {
			t.Fatalf("Parse accepted a %d-byte key", len(s.key))
		}
	})
}
