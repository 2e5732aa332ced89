package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// transitEncrypt encrypts PayloadBytes of plaintext with a transit key on a
// transit mount of its own.
type transitEncrypt struct {
	p           Params
	mount, path string
	body        []byte
}

func newTransit(p Params) *transitEncrypt { return &transitEncrypt{p: p} }

func (w *transitEncrypt) Name() string { return "transit-encrypt" }

// Setup mounts transit and creates an aes256-gcm96 key.
func (w *transitEncrypt) Setup(ctx context.Context, c *apiclient.Client) error {
	m := uniqueName("bench-transit-")
	if err := mount(ctx, c, m, "transit", nil); err != nil {
		return err
	}
	w.mount = m
	if _, err := c.Write(ctx, m+"/keys/bench", map[string]any{"type": "aes256-gcm96"}); err != nil {
		return fmt.Errorf("transit-encrypt setup: %w", err)
	}
	plaintext := base64.StdEncoding.EncodeToString([]byte(randomValue(w.p.PayloadBytes)))
	body, err := json.Marshal(map[string]string{"plaintext": plaintext})
	if err != nil {
		return fmt.Errorf("transit-encrypt setup: %w", err)
	}
	w.body, w.path = body, m+"/encrypt/bench"
	return nil
}

func (w *transitEncrypt) Next(*mrand.Rand, uint64) Op {
	return Op{Method: http.MethodPost, Path: w.path, Body: w.body}
}

// Cleanup unmounts transit, which deletes the key.
func (w *transitEncrypt) Cleanup(ctx context.Context, c *apiclient.Client) error {
	return unmount(ctx, c, w.mount)
}
