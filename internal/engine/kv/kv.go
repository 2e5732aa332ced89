// Package kv implements the key/value secrets engine, version 1 (one
// unversioned JSON object per path) and version 2 (versioned objects with
// metadata, check-and-set, soft delete, undelete and destroy), with Vault's
// paths, request fields and response shapes.
//
// Storage layout inside the mount's private storage view:
//
//	KV v1
//	  <path>               the secret: a JSON object
//	KV v2
//	  config               the mount configuration (JSON)
//	  metadata/<path>      the key's metadata, including every live version's
//	                       created/deletion time and destroyed flag (JSON)
//	  versions/<path>/<n>  version n's data, a JSON object; absent once the
//	                       version is destroyed or pruned by max_versions
//
// Reading a version touches two keys (metadata/<path>, versions/<path>/<n>).
// Every write that changes more than one key (a new version, destroy,
// metadata delete) goes through one storage Transaction, so a crash never
// leaves metadata and version data disagreeing. Writes to one path are
// serialised by a striped lock so check-and-set is exact within a node.
//
// Secret values never appear in errors or logs; paths and version numbers
// may.
package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig.
	ErrNilConfig = errors.New("kv: nil backend config")
	// ErrUnsupportedVersion is returned by Factory for a "version" option
	// other than "", "1" or "2".
	ErrUnsupportedVersion = errors.New("kv: unsupported version")
	// ErrCorruptEntry is returned when an entry read from storage does not
	// decode. The cause is not wrapped: decoder messages can quote data.
	ErrCorruptEntry = errors.New("kv: stored entry is corrupt")
)

// Factory builds a KV engine for a mount. conf.Options["version"] selects
// the flavour: "2" for KV v2, "" or "1" for KV v1.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, ErrNilConfig
	}
	switch v := conf.Options["version"]; v {
	case "", "1":
		return newV1(), nil
	case "2":
		return newVersioned(time.Now), nil
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedVersion, v)
	}
}
