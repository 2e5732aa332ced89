package jwt

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

var _ logical.Invalidator = (*Backend)(nil)

// Invalidate drops what the method keeps in memory for key, a key of the
// mount's storage view written or deleted by another node. The verifier
// (the config it was built from, its JWKS key set or OIDC provider) is the
// only such state: a change of "config" drops it, and the next login
// builds one from the stored config. Roles are read from storage on every
// login and drop nothing; a key the layout does not know drops the
// verifier too. Pending OIDC logins are not storage state and are kept.
func (b *Backend) Invalidate(_ context.Context, key string) {
	if strings.HasPrefix(key, rolePrefix) {
		return
	}
	b.replaceVerifier(nil)
}
