package kv

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

// subkeysPath is subkeys/<path>: a version's structure without its values.
func (b *versioned) subkeysPath() *logical.Path {
	return &logical.Path{
		Pattern: `subkeys/(?P<path>(?s:.+))`,
		Fields: map[string]*logical.Field{
			"version": {Type: logical.TypeInt, Description: "Version to read; the latest if 0 or unset."},
			"depth":   {Type: logical.TypeInt, Description: "Deepest nesting level to return; 0 for no limit."},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation: b.subkeysRead,
		},
		Help: "Read the keys of a secret with every leaf value replaced by null.",
	}
}

func (b *versioned) subkeysRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	depth := d.Int("depth")
	if depth < 0 {
		return nil, logical.InvalidRequest("depth must not be negative")
	}
	l := b.locks.forKey(key)
	l.RLock()
	defer l.RUnlock()

	meta, err := loadMetadata(ctx, req.Storage, key)
	if err != nil || meta == nil {
		return nil, err
	}
	n := meta.CurrentVersion
	if v := d.Int("version"); v > 0 {
		n = uint64(v)
	}
	vm := meta.Versions[n]
	if vm == nil {
		return nil, nil
	}
	body := map[string]any{"subkeys": nil, "metadata": versionFields(n, vm, meta.CustomMetadata)}
	if vm.gone(b.clock()) {
		return notFoundWithData(body), nil
	}
	data, err := loadVersion(ctx, req.Storage, key, n)
	if err != nil {
		return nil, err
	}
	stripValues(data, depth, 1)
	body["subkeys"] = data
	return &logical.Response{Data: body}, nil
}

// stripValues replaces, in place, every leaf of m with nil. Leaves are
// non-object values, empty objects, and objects at level maxDepth when
// maxDepth is not 0; m's own keys are at level depth.
func stripValues(m map[string]any, maxDepth, depth int) {
	for k, v := range m {
		child, ok := v.(map[string]any)
		if ok && len(child) > 0 && (maxDepth == 0 || depth < maxDepth) {
			stripValues(child, maxDepth, depth+1)
			continue
		}
		m[k] = nil
	}
}
