package gitops

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// ServerTransit is Transit over a Coffer (or Vault) server's transit API:
// POST <mount>/encrypt/<key> and <mount>/decrypt/<key>.
type ServerTransit struct {
	Client *apiclient.Client
}

var _ Transit = ServerTransit{}

// Encrypt implements Transit.
func (t ServerTransit) Encrypt(ctx context.Context, mount, key string, plaintext []byte) (string, error) {
	s, err := t.Client.Write(ctx, mount+"/encrypt/"+url.PathEscape(key), map[string]any{
		"plaintext": base64.StdEncoding.EncodeToString(plaintext),
	})
	if err != nil {
		return "", fmt.Errorf("transit encrypt: %w", err)
	}
	ct, ok := dataString(s, "ciphertext")
	if !ok {
		return "", fmt.Errorf("transit encrypt: %w: no ciphertext in response", ErrMalformed)
	}
	return ct, nil
}

// Decrypt implements Transit.
func (t ServerTransit) Decrypt(ctx context.Context, mount, key, ciphertext string) ([]byte, error) {
	s, err := t.Client.Write(ctx, mount+"/decrypt/"+url.PathEscape(key), map[string]any{
		"ciphertext": ciphertext,
	})
	if err != nil {
		return nil, fmt.Errorf("transit decrypt: %w", err)
	}
	pt, ok := dataString(s, "plaintext")
	if !ok {
		return nil, fmt.Errorf("transit decrypt: %w: no plaintext in response", ErrMalformed)
	}
	raw, err := base64.StdEncoding.DecodeString(pt)
	if err != nil {
		return nil, fmt.Errorf("transit decrypt: %w: plaintext is not base64", ErrMalformed)
	}
	return raw, nil
}

func dataString(s *apiclient.Secret, k string) (string, bool) {
	if s == nil {
		return "", false
	}
	v, ok := s.Data[k].(string)
	return v, ok
}
