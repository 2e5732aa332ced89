package kv

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// defaultMaxVersions is the number of versions kept when neither the mount
// nor the key sets max_versions.
const defaultMaxVersions = 10

// Storage keys of KV v2; see the package comment.
const (
	configKey      = "config"
	metadataPrefix = "metadata/"
	versionsPrefix = "versions/"
)

func metadataKey(path string) string { return metadataPrefix + path }

func versionKey(path string, n uint64) string {
	return versionsPrefix + path + "/" + strconv.FormatUint(n, 10)
}

// mountConfig is the KV v2 mount configuration.
type mountConfig struct {
	MaxVersions uint32 `json:"max_versions"`
	CASRequired bool   `json:"cas_required"`
	// DeleteVersionAfter is zero when unset and negative when disabled for
	// every key of the mount.
	DeleteVersionAfter time.Duration `json:"delete_version_after"`
}

// versionMeta describes one version of a key.
type versionMeta struct {
	CreatedTime  time.Time `json:"created_time"`
	DeletionTime time.Time `json:"deletion_time,omitzero"`
	Destroyed    bool      `json:"destroyed,omitempty"`
}

// deleted reports whether the version counts as deleted at now: its
// deletion time, set by a delete or by delete_version_after, has come.
func (v *versionMeta) deleted(now time.Time) bool {
	return !v.DeletionTime.IsZero() && !now.Before(v.DeletionTime)
}

// gone reports whether reads of the version get no data.
func (v *versionMeta) gone(now time.Time) bool { return v.Destroyed || v.deleted(now) }

// keyMetadata is everything KV v2 keeps about a key besides version data.
type keyMetadata struct {
	CurrentVersion uint64 `json:"current_version"`
	// OldestVersion follows Vault: 0 until max_versions first prunes.
	OldestVersion      uint64                  `json:"oldest_version"`
	MaxVersions        uint32                  `json:"max_versions"`
	CASRequired        bool                    `json:"cas_required"`
	DeleteVersionAfter time.Duration           `json:"delete_version_after"`
	CustomMetadata     map[string]string       `json:"custom_metadata"`
	CreatedTime        time.Time               `json:"created_time"`
	UpdatedTime        time.Time               `json:"updated_time"`
	Versions           map[uint64]*versionMeta `json:"versions"`
}

// addVersion records a new current version and applies max_versions the way
// Vault does: the larger of the key's and the mount's setting, 10 when both
// are 0. It returns the new version's metadata and the versions pruned.
func (m *keyMetadata) addVersion(created, deletion time.Time, mountMax uint32) (*versionMeta, []uint64) {
	if m.Versions == nil {
		m.Versions = map[uint64]*versionMeta{}
	}
	vm := &versionMeta{CreatedTime: created, DeletionTime: deletion}
	m.CurrentVersion++
	m.Versions[m.CurrentVersion] = vm
	m.UpdatedTime = created
	if m.CreatedTime.IsZero() {
		m.CreatedTime = created
	}
	limit := uint64(max(m.MaxVersions, mountMax))
	if limit == 0 {
		limit = defaultMaxVersions
	}
	if m.CurrentVersion-m.OldestVersion < limit {
		return vm, nil
	}
	last := m.CurrentVersion - limit
	var pruned []uint64
	for n := range m.Versions {
		if n <= last {
			delete(m.Versions, n)
			pruned = append(pruned, n)
		}
	}
	m.OldestVersion = last + 1
	slices.Sort(pruned)
	return vm, pruned
}

// deletionTime is created plus the smaller non-zero of the mount's and the
// key's delete_version_after; false when neither is set or the mount
// disabled it.
func deletionTime(created time.Time, mount, key time.Duration) (time.Time, bool) {
	if mount < 0 || (mount == 0 && key == 0) {
		return time.Time{}, false
	}
	after := key
	if after == 0 || (mount != 0 && mount < after) {
		after = mount
	}
	return created.Add(after), true
}

// loadConfig returns the mount configuration, zero if never written.
func loadConfig(ctx context.Context, s storage.Backend) (*mountConfig, error) {
	cfg := &mountConfig{}
	if err := loadJSON(ctx, s, configKey, cfg); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return cfg, nil
		}
		return nil, err
	}
	return cfg, nil
}

// loadMetadata returns the key's metadata, or nil if the key has none.
func loadMetadata(ctx context.Context, s storage.Backend, path string) (*keyMetadata, error) {
	meta := &keyMetadata{}
	if err := loadJSON(ctx, s, metadataKey(path), meta); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	if meta.Versions == nil {
		meta.Versions = map[uint64]*versionMeta{}
	}
	return meta, nil
}

// loadVersion returns version n's data; its metadata must say it exists.
func loadVersion(ctx context.Context, s storage.Backend, path string, n uint64) (map[string]any, error) {
	e, err := s.Get(ctx, versionKey(path, n))
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errors.New("kv: version data missing")
		}
		return nil, storageError("read version", err)
	}
	return decodeObject(e.Value)
}

func loadJSON(ctx context.Context, s storage.Backend, key string, v any) error {
	e, err := s.Get(ctx, key)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return err
		}
		return storageError("read", err)
	}
	if json.Unmarshal(e.Value, v) != nil {
		return ErrCorruptEntry
	}
	return nil
}

// putOp encodes v (metadata or config, never secret data) as a Put.
func putOp(key string, v any) (storage.TxnOp, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return storage.TxnOp{}, err
	}
	return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: b}}, nil
}

func deleteOp(key string) storage.TxnOp {
	return storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: key}}
}

// saveMetadata writes the key's metadata alone.
func saveMetadata(ctx context.Context, s storage.Backend, path string, meta *keyMetadata) error {
	op, err := putOp(metadataKey(path), meta)
	if err != nil {
		return err
	}
	if err := s.Put(ctx, &op.Entry); err != nil {
		return storageError("write metadata", err)
	}
	return nil
}
