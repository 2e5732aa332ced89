package token

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// TypeService is the type of stored tokens (TypeBatch is the other).
const TypeService = "service"

// numUsesRevoked marks a token whose last use was consumed or whose
// revocation has begun: it no longer authenticates anything.
const numUsesRevoked = -1

// Entry is the stored form of a token. It never holds the raw token.
type Entry struct {
	// Hash is the hex HMAC-SHA256 of the raw token: the storage identity.
	Hash string `json:"hash"`
	// Accessor is a random 24-character base62 handle for the token.
	Accessor string `json:"accessor"`
	// Parent is the parent's Hash, "" for orphans.
	Parent string `json:"parent,omitempty"`
	// Policies are sorted and deduplicated.
	Policies []string          `json:"policies"`
	Meta     map[string]string `json:"meta,omitempty"`
	// DisplayName is "token" or "token-<name>" for tokens made by the token
	// API, "<method>-<name>" for logins.
	DisplayName string `json:"display_name"`
	// NumUses is the number of uses left; 0 means unlimited and -1 means
	// used up or being revoked.
	NumUses      int       `json:"num_uses"`
	CreationTime time.Time `json:"creation_time"`
	// TTL is the TTL the token was created with.
	TTL            time.Duration `json:"ttl"`
	ExplicitMaxTTL time.Duration `json:"explicit_max_ttl,omitempty"`
	Period         time.Duration `json:"period,omitempty"`
	// ExpireTime is when the token stops working; zero means never (root
	// tokens).
	ExpireTime  time.Time      `json:"expire_time"`
	Renewable   bool           `json:"renewable"`
	BoundCIDRs  []netip.Prefix `json:"bound_cidrs,omitempty"`
	Path        string         `json:"path"`
	EntityID    string         `json:"entity_id,omitempty"`
	Type        string         `json:"type"`
	CubbyholeID string         `json:"cubbyhole_id"`
	Orphan      bool           `json:"orphan"`
}

// String describes the entry without its hash.
func (e Entry) String() string {
	return fmt.Sprintf("token{accessor=%s display_name=%s policies=[%s]}",
		e.Accessor, e.DisplayName, strings.Join(e.Policies, ","))
}

// LogValue implements slog.LogValuer; like String it leaves out the hash.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("accessor", e.Accessor),
		slog.String("display_name", e.DisplayName),
		slog.Any("policies", e.Policies),
	)
}

// expires reports whether the token has an expiry time.
func (e *Entry) expires() bool { return !e.ExpireTime.IsZero() }

// expiredAt reports whether the token is expired at now.
func (e *Entry) expiredAt(now time.Time) bool {
	return e.expires() && !now.Before(e.ExpireTime)
}

// revoked reports whether the token was used up or is being revoked.
func (e *Entry) revoked() bool { return e.NumUses < 0 }

// clone returns a deep copy, so callers never share slices or maps with the
// store's working copy.
func (e *Entry) clone() *Entry {
	c := *e
	c.Policies = slices.Clone(e.Policies)
	c.BoundCIDRs = slices.Clone(e.BoundCIDRs)
	if e.Meta != nil {
		c.Meta = make(map[string]string, len(e.Meta))
		for k, v := range e.Meta {
			c.Meta[k] = v
		}
	}
	return &c
}

func (e *Entry) encode() ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode token entry: %w", err)
	}
	return b, nil
}

func decodeEntry(b []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("decode token entry: %w", err)
	}
	return &e, nil
}
