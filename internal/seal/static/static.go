// Package static is an auto seal whose key-wrapping key comes from a local
// key file, such as a Kubernetes Secret mounted into the pod.
package static

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/cofferdev/coffer/internal/seal"
)

var (
	// ErrInsecureFile is returned by Load for a key file that group or
	// others may read, write or execute.
	ErrInsecureFile = errors.New("static: key file permissions too open")
	// ErrInvalidKeyFile is returned by Load and Parse for contents that are
	// not a 32-byte key. The error never quotes the contents.
	ErrInvalidKeyFile = errors.New("static: invalid key file")
)

// maxFileSize bounds what Load reads: the longest accepted encoding (hex,
// 64 characters) plus generous room for trailing whitespace.
const maxFileSize = 1024

// Seal wraps the root key with a fixed key (AES-256-GCM via
// seal.WrapWithKey, AAD "static"). It is an auto seal, immutable and safe for
// concurrent use, and prints as [REDACTED].
type Seal struct {
	key []byte
}

var _ seal.AutoSeal = (*Seal)(nil)

// Load reads a key file: 32 bytes encoded as standard base64 (padded or
// not) or hex, optionally followed by whitespace such as a newline, or
// exactly 32 raw bytes. Files whose mode lets group or others in
// (mode & 0o077 != 0) are refused.
func Load(path string) (*Seal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("static: open key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("static: stat key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidKeyFile, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, want 0600 or stricter (chmod 600 %s)", ErrInsecureFile, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	defer clear(data)
	if err != nil {
		return nil, fmt.Errorf("static: read key file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidKeyFile, path, maxFileSize)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse builds a Seal from key file contents, in the formats Load accepts.
func Parse(data []byte) (*Seal, error) {
	if len(data) == seal.KeySize {
		return &Seal{key: bytes.Clone(data)}, nil
	}
	text := bytes.TrimRight(data, " \t\r\n")
	var dec func(dst, src []byte) (int, error)
	switch len(text) {
	case hex.EncodedLen(seal.KeySize):
		dec = hex.Decode
	case base64.StdEncoding.EncodedLen(seal.KeySize):
		dec = base64.StdEncoding.Strict().Decode
	case base64.RawStdEncoding.EncodedLen(seal.KeySize):
		dec = base64.RawStdEncoding.Strict().Decode
	default:
		return nil, fmt.Errorf("%w: want a 32-byte key as base64, hex or raw bytes", ErrInvalidKeyFile)
	}
	// len(text) bytes hold any decoding of text (padded base64 decodes into
	// up to 33 bytes before its padding is seen).
	buf := make([]byte, len(text))
	defer clear(buf)
	// Decoders' errors quote the offending character, a piece of the key:
	// report only that the text does not decode.
	if n, err := dec(buf, text); err != nil || n != seal.KeySize {
		return nil, fmt.Errorf("%w: key is neither valid base64 nor hex", ErrInvalidKeyFile)
	}
	return &Seal{key: bytes.Clone(buf[:seal.KeySize])}, nil
}

// Generate writes a new random key, base64 and a newline, to a new file at
// path with mode 0600. It refuses to overwrite an existing file.
func Generate(path string) error {
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("static: generate key: %w", err)
	}
	defer clear(key)
	text := base64.StdEncoding.AppendEncode(nil, key)
	text = append(text, '\n')
	defer clear(text)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("static: create key file: %w", err)
	}
	_, err = f.Write(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("static: write key file: %w", err)
	}
	return nil
}

// Type returns seal.TypeStatic.
func (*Seal) Type() string { return seal.TypeStatic }

// Auto marks Seal as an auto seal.
func (*Seal) Auto() {}

// Wrap encrypts plaintext under the key.
func (s *Seal) Wrap(_ context.Context, plaintext []byte) ([]byte, error) {
	blob, err := seal.WrapWithKey(s.key, plaintext, []byte(seal.TypeStatic))
	if err != nil {
		return nil, fmt.Errorf("static: wrap: %w", err)
	}
	return blob, nil
}

// Unwrap decrypts a blob made by Wrap; any failure is seal.ErrUnwrap.
func (s *Seal) Unwrap(_ context.Context, blob []byte) ([]byte, error) {
	plaintext, err := seal.UnwrapWithKey(s.key, blob, []byte(seal.TypeStatic))
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return plaintext, nil
}

const redactedText = "[REDACTED]"

// String, GoString, Format and LogValue keep the key out of output.
func (*Seal) String() string             { return redactedText }
func (*Seal) GoString() string           { return redactedText }
func (*Seal) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedText) }
func (*Seal) LogValue() slog.Value       { return slog.StringValue(redactedText) }
