// Package cubbyhole implements the cubbyhole secrets engine: storage private
// to one token, with KV v1's read, write, delete and list.
//
// Every key is stored under Prefix(CubbyholeID) of the calling token, so two
// tokens never see each other's data, and revoking a token can erase its
// cubbyhole with one prefix delete. The engine is KV v1 (kv.NewFlat) with
// that per-caller prefix.
package cubbyhole

import (
	"context"
	"errors"
	"strings"

	"github.com/cofferdev/coffer/internal/engine/kv"
	"github.com/cofferdev/coffer/internal/logical"
)

// ErrNilConfig is returned by Factory when it gets no BackendConfig.
var ErrNilConfig = errors.New("cubbyhole: nil backend config")

// Prefix is the storage prefix holding the cubbyhole of the token with the
// given cubbyhole id.
func Prefix(cubbyholeID string) string { return cubbyholeID + "/" }

// Factory builds the cubbyhole engine.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, ErrNilConfig
	}
	return kv.NewFlat(callerPrefix, "Token-private secret storage: read, write, delete and list JSON objects."), nil
}

// callerPrefix is the caller's cubbyhole prefix. An id that is empty or
// could reach outside its own prefix is refused.
func callerPrefix(req *logical.Request) (string, error) {
	if req.Caller == nil || req.Caller.CubbyholeID == "" {
		return "", logical.Errorf(logical.KindPermissionDenied, "cubbyhole requires a token")
	}
	id := req.Caller.CubbyholeID
	if strings.Contains(id, "/") || strings.Contains(id, "..") {
		return "", logical.Errorf(logical.KindPermissionDenied, "invalid cubbyhole id")
	}
	return Prefix(id), nil
}
