package kv

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// invalidV2PathMsg is Vault's answer to a KV v1 style path on a v2 mount.
const invalidV2PathMsg = "Invalid path for a versioned K/V secrets engine. " +
	"See the API docs for the appropriate API endpoints to use. " +
	"If using the Vault CLI, use 'vault kv get' for this operation."

// versioned is the KV v2 engine.
type versioned struct {
	*logical.Router
	// now is the clock; tests replace it.
	now   func() time.Time
	locks *keyLocks
	meta  *metaCache
	data  *dataCache
}

var (
	_ logical.Backend          = (*versioned)(nil)
	_ logical.ExistenceChecker = (*versioned)(nil)
)

func newVersioned(now func() time.Time) *versioned {
	b := &versioned{now: now, locks: newKeyLocks(), meta: newMetaCache(), data: newDataCache()}
	b.Router = logical.NewRouter(
		b.configPath(),
		b.dataPath(),
		b.metadataPath(),
		b.deletePath(),
		b.undeletePath(),
		b.destroyPath(),
		b.subkeysPath(),
		invalidPath(),
	)
	return b
}

// clock returns the current time in UTC without a monotonic reading, so
// stored and fresh times compare alike.
func (b *versioned) clock() time.Time { return b.now().UTC().Round(0) }

// invalidPath answers every other path the way Vault does on a v2 mount.
func invalidPath() *logical.Path {
	h := func(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
		return nil, logical.Errorf(logical.KindUnsupportedPath, "%s", invalidV2PathMsg)
	}
	return &logical.Path{
		Pattern: `(?s:.*)`,
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   h,
			logical.CreateOperation: h,
			logical.UpdateOperation: h,
			logical.PatchOperation:  h,
			logical.DeleteOperation: h,
			logical.ListOperation:   h,
		},
		Help: "Paths of a versioned mount start with data/, metadata/, delete/, undelete/, destroy/, subkeys/ or config.",
	}
}

// metadataExists is the existence check of data/ and metadata/: a key
// exists once it has metadata.
func (b *versioned) metadataExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return false, err
	}
	meta, err := loadMetadata(ctx, req.Storage, key)
	return meta != nil, err
}

// formatTime renders times as Vault does: RFC 3339 with nanoseconds in UTC,
// "" for none.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// versionFields is the metadata of one version as data/ and subkeys/ return
// it.
func versionFields(n uint64, vm *versionMeta, custom map[string]string) map[string]any {
	return map[string]any{
		"created_time":    formatTime(vm.CreatedTime),
		"custom_metadata": custom,
		"deletion_time":   formatTime(vm.DeletionTime),
		"destroyed":       vm.Destroyed,
		"version":         n,
	}
}

// notFoundWithData is the response for a deleted or destroyed version:
// Vault sends its metadata with status 404, and the Vault Go client and CLI
// read that body (data null, metadata showing the deletion).
func notFoundWithData(data map[string]any) *logical.Response {
	return &logical.Response{Data: data, NotFound: true}
}

// casOption reads options.cas: the value and whether it was sent.
func casOption(d *logical.FieldData) (int, bool, error) {
	raw, ok := d.Map("options")["cas"]
	if !ok || raw == nil {
		return 0, false, nil
	}
	cas, err := logical.ToInt(raw)
	if err != nil {
		return 0, false, logical.InvalidRequest("error parsing check-and-set parameter")
	}
	return cas, true, nil
}

// checkCAS applies Vault's check-and-set rules: a sent cas must equal the
// current version (0 for a key without versions); without one, the write
// fails when the mount or the key requires cas.
func checkCAS(cfg *mountConfig, meta *keyMetadata, cas int, sent bool) error {
	if sent {
		if cas < 0 || uint64(cas) != meta.CurrentVersion {
			return logical.InvalidRequest("check-and-set parameter did not match the current version")
		}
		return nil
	}
	if cfg.CASRequired || meta.CASRequired {
		return logical.InvalidRequest("check-and-set parameter required for this call")
	}
	return nil
}

// parseVersions reads the "versions" field of delete, undelete and destroy.
func parseVersions(d *logical.FieldData) ([]uint64, error) {
	raw := d.Strings("versions")
	if len(raw) == 0 {
		return nil, logical.InvalidRequest("no version number provided")
	}
	out := make([]uint64, 0, len(raw))
	for _, s := range raw {
		n, err := logical.ToInt(s)
		if err != nil {
			return nil, logical.InvalidRequest("versions must be integers")
		}
		if n > 0 {
			out = append(out, uint64(n))
		}
	}
	return out, nil
}
