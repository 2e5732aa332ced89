package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// A password change touches two systems: the database and Coffer's
// storage. The rotation journal makes that safe: the new password is
// written under journal/<kind>/<name> before the database sees it, and the
// new credentials are stored and the journal entry deleted in one storage
// transaction after the database accepted it. A crash or a failed commit
// in between leaves the entry, and reconcile settles it: a static role is
// rotated again (its password becomes one Coffer stores); a root password
// is tried against the database, stored password first, and whichever
// works is kept.
const (
	journalPrefix = "journal/"
	journalStatic = "static"
	journalRoot   = "root"
)

// journalEntry is a password change in flight.
type journalEntry struct {
	Password string    `json:"password"`
	Created  time.Time `json:"created"`
}

func (j *journalEntry) LogValue() slog.Value { return slog.StringValue("journal entry [REDACTED]") }
func (j *journalEntry) String() string       { return "journal entry [REDACTED]" }

func journalKey(kind, name string) string { return journalPrefix + kind + "/" + name }

// beginRotation journals password for kind/name before it is sent to the
// database.
func (b *backend) beginRotation(ctx context.Context, kind, name, password string) error {
	if err := putJSON(ctx, b.store, journalKey(kind, name), &journalEntry{Password: password, Created: b.now()}); err != nil {
		return fmt.Errorf("database: journal the new password: %w", err)
	}
	return nil
}

// commitRotation stores obj under key and drops the journal entry, in one
// transaction.
func (b *backend) commitRotation(ctx context.Context, kind, name, key string, obj any) error {
	val, err := encodeJSON(obj)
	if err != nil {
		return err
	}
	return b.store.Transaction(ctx, []storage.TxnOp{
		{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: val}},
		{Kind: storage.OpDelete, Entry: storage.Entry{Key: journalKey(kind, name)}},
	})
}

// reconcile settles every journalled change. The caller holds rotMu.
func (b *backend) reconcile(ctx context.Context) {
	for _, kind := range []string{journalRoot, journalStatic} { // root first: static rotations connect with it
		names, err := b.store.List(ctx, journalPrefix+kind+"/")
		if err != nil {
			b.log.Error("database: listing the rotation journal failed", "error", err)
			return
		}
		for _, name := range names {
			var err error
			if kind == journalStatic {
				err = b.reconcileStatic(ctx, name)
			} else {
				err = b.reconcileRoot(ctx, name)
			}
			if err != nil && ctx.Err() == nil {
				b.log.Error("database: settling an interrupted password change failed; will retry",
					"kind", kind, "name", name, "error", err)
			}
		}
	}
}

// reconcileStatic rotates the static role again, so its password is one
// Coffer has stored whatever the database took last time.
func (b *backend) reconcileStatic(ctx context.Context, name string) error {
	s, err := getJSON[staticRole](ctx, b.store, "static-role/"+name)
	if err != nil {
		return err
	}
	if s == nil {
		return b.store.Delete(ctx, journalKey(journalStatic, name))
	}
	b.log.Info("database: re-rotating a static role whose last rotation was interrupted", "role", name)
	return b.rotateLocked(ctx, name, s)
}

// reconcileRoot keeps the root password the database accepts: the stored
// one (the change never reached it) or the journalled one (it did, and only
// the commit was lost).
func (b *backend) reconcileRoot(ctx context.Context, name string) error {
	j, err := getJSON[journalEntry](ctx, b.store, journalKey(journalRoot, name))
	if err != nil || j == nil {
		return err
	}
	c, err := getJSON[dbConfig](ctx, b.store, "config/"+name)
	if err != nil {
		return err
	}
	if c == nil {
		return b.store.Delete(ctx, journalKey(journalRoot, name))
	}
	if canConnect(ctx, c) {
		return b.store.Delete(ctx, journalKey(journalRoot, name))
	}
	pending := *c
	pending.Password = j.Password
	if !canConnect(ctx, &pending) {
		return errors.New("neither the stored nor the journalled root password is accepted (is the database up?)")
	}
	b.log.Info("database: keeping the root password the database accepted before an interrupted commit", "config", name)
	b.closePool(name)
	return b.commitRotation(ctx, journalRoot, name, "config/"+name, &pending)
}

// canConnect reports whether the config's credentials open a connection.
func canConnect(ctx context.Context, c *dbConfig) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := openPool(ctx, c)
	if err != nil {
		return false
	}
	defer p.Close()
	return p.Ping(ctx) == nil
}
