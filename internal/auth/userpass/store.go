package userpass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/storage"
)

// userPrefix is the storage folder of user entries.
const userPrefix = "user/"

// user is one stored user. It prints as [REDACTED]: log its name instead.
type user struct {
	tokenutil.Params
	Password passwordHash `json:"password"`
}

// String implements fmt.Stringer without revealing the password hash.
func (*user) String() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer without revealing the password hash.
func (*user) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// getUser reads a user; a missing user is (nil, nil).
func getUser(ctx context.Context, s storage.Backend, name string) (*user, error) {
	e, err := s.Get(ctx, userPrefix+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("userpass: read user: %w", err)
	}
	u := &user{}
	if err := json.Unmarshal(e.Value, u); err != nil {
		return nil, ErrCorruptEntry
	}
	return u, nil
}

// putUser writes a user.
func putUser(ctx context.Context, s storage.Backend, name string, u *user) error {
	v, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("userpass: encode user: %w", err)
	}
	if err := s.Put(ctx, &storage.Entry{Key: userPrefix + name, Value: v}); err != nil {
		return fmt.Errorf("userpass: write user: %w", err)
	}
	return nil
}

// deleteUser removes a user; removing an absent user succeeds.
func deleteUser(ctx context.Context, s storage.Backend, name string) error {
	if err := s.Delete(ctx, userPrefix+name); err != nil {
		return fmt.Errorf("userpass: delete user: %w", err)
	}
	return nil
}

// listUsers returns the sorted usernames.
func listUsers(ctx context.Context, s storage.Backend) ([]string, error) {
	keys, err := s.List(ctx, userPrefix)
	if err != nil {
		return nil, fmt.Errorf("userpass: list users: %w", err)
	}
	return keys, nil
}
