package approle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/storage"
)

// Storage folders (see the package comment).
const (
	rolePrefix     = "role/"
	roleIDPrefix   = "role-id/"
	secretIDPrefix = "secret-id/"
	accessorPrefix = "accessor/"
)

// role is one stored role. It prints as [REDACTED] because it holds the
// role ID.
type role struct {
	tokenutil.Params
	Name string `json:"name"`
	// UID namespaces the role's secret IDs in storage.
	UID                string         `json:"uid"`
	RoleID             string         `json:"role_id"`
	BindSecretID       bool           `json:"bind_secret_id"`
	SecretIDBoundCIDRs []netip.Prefix `json:"secret_id_bound_cidrs"`
	SecretIDNumUses    int            `json:"secret_id_num_uses"`
	SecretIDTTL        time.Duration  `json:"secret_id_ttl"`
	LocalSecretIDs     bool           `json:"local_secret_ids"`
}

// String implements fmt.Stringer without revealing the role ID.
func (*role) String() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer without revealing the role ID.
func (*role) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// secretID is the stored state of one secret ID (never the secret itself).
type secretID struct {
	Accessor        string            `json:"secret_id_accessor"`
	NumUses         int               `json:"secret_id_num_uses"`
	TTL             time.Duration     `json:"secret_id_ttl"`
	CreationTime    time.Time         `json:"creation_time"`
	ExpirationTime  time.Time         `json:"expiration_time"`
	LastUpdatedTime time.Time         `json:"last_updated_time"`
	Metadata        map[string]string `json:"metadata"`
	CIDRList        []netip.Prefix    `json:"cidr_list"`
	TokenBoundCIDRs []netip.Prefix    `json:"token_bound_cidrs"`
}

// expired reports whether the secret ID's TTL has run out at now.
func (e *secretID) expired(now time.Time) bool {
	return !e.ExpirationTime.IsZero() && !now.Before(e.ExpirationTime)
}

// accessorEntry points from an accessor to its secret ID's HMAC.
type accessorEntry struct {
	SecretIDHMAC string `json:"secret_id_hmac"`
}

// roleIDEntry points from a role ID's HMAC to its role.
type roleIDEntry struct {
	Name string `json:"name"`
}

// getJSON decodes the entry at key into v; a missing key reports false.
func getJSON(ctx context.Context, s storage.Backend, key string, v any) (bool, error) {
	e, err := s.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("approle: read: %w", err)
	}
	if err := json.Unmarshal(e.Value, v); err != nil {
		return false, ErrCorruptEntry
	}
	return true, nil
}

// putOp returns a transaction operation writing v as JSON at key.
func putOp(key string, v any) (storage.TxnOp, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return storage.TxnOp{}, fmt.Errorf("approle: encode: %w", err)
	}
	return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: raw}}, nil
}

// deleteOp returns a transaction operation deleting key.
func deleteOp(key string) storage.TxnOp {
	return storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: key}}
}

// commit applies ops atomically.
func commit(ctx context.Context, s storage.Backend, ops ...storage.TxnOp) error {
	if err := s.Transaction(ctx, ops); err != nil {
		return fmt.Errorf("approle: write: %w", err)
	}
	return nil
}

// getRole reads a role by (lowercased) name; a missing role is (nil, nil).
func getRole(ctx context.Context, s storage.Backend, name string) (*role, error) {
	r := &role{}
	ok, err := getJSON(ctx, s, rolePrefix+name, r)
	if !ok || err != nil {
		return nil, err
	}
	return r, nil
}

// secretIDKey and accessorKey are the storage keys of a role's secret ID
// and accessor entries.
func secretIDKey(uid, h string) string { return secretIDPrefix + uid + "/" + h }
func accessorKey(uid, h string) string { return accessorPrefix + uid + "/" + h }

// getSecretID reads a secret ID entry by its HMAC; missing is (nil, nil).
func getSecretID(ctx context.Context, s storage.Backend, uid, h string) (*secretID, error) {
	e := &secretID{}
	ok, err := getJSON(ctx, s, secretIDKey(uid, h), e)
	if !ok || err != nil {
		return nil, err
	}
	return e, nil
}
