package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/logical"
)

// devSetup initialises and unseals a dev server with one key share, mounts
// KV v2 at secret/ and prints the unseal key and root token.
func (s *Server) devSetup(ctx context.Context, rootTokenID string, out io.Writer) error {
	res, err := s.Core.Initialize(ctx, core.InitParams{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		return fmt.Errorf("server: dev init: %w", err)
	}
	if err := s.Core.Unseal(ctx, res.Keys[0]); err != nil {
		return fmt.Errorf("server: dev unseal: %w", err)
	}
	root := res.RootToken
	if rootTokenID != "" {
		if root, err = s.Core.CreateRootTokenWithID(ctx, rootTokenID); err != nil {
			return fmt.Errorf("server: dev root token: %w", err)
		}
	}
	_, err = s.Core.HandleRequest(ctx, &logical.Request{
		Operation: logical.UpdateOperation, Path: "sys/mounts/secret", ClientToken: root,
		Data: map[string]any{"type": "kv", "options": map[string]any{"version": "2"},
			"description": "key/value secret storage"},
	})
	if err != nil {
		return fmt.Errorf("server: dev mount secret/: %w", err)
	}
	addr := s.Addrs()[0]
	fmt.Fprintf(out, `WARNING! dev mode is enabled! In this mode, Coffer runs entirely in-memory
and starts unsealed with a single unseal key.

You may need to set the following environment variables:

    $ export COFFER_ADDR='http://%s'
    $ export COFFER_TOKEN='%s'

The unseal key and root token are displayed below in case you want to
seal/unseal the server or re-authenticate.

Unseal Key: %s
Root Token: %s

Development mode should NOT be used in production installations!
`, addr, root, base64.StdEncoding.EncodeToString(res.Keys[0]), root)
	return nil
}
