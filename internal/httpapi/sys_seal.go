package httpapi

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/version"
)

// allowMethods answers 405 unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	writeErrors(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not supported on "+r.URL.Path)
	return false
}

// readBody decodes the JSON body for the lifecycle endpoints, answering the
// error itself.
func readBody(w http.ResponseWriter, r *http.Request) (*logical.FieldData, bool) {
	data, err := decodeBody(r)
	if err != nil {
		writeErrors(w, bodyStatus(err), err.Error())
		return nil, false
	}
	return &logical.FieldData{Raw: data}, true
}

// field reads one typed field from a lifecycle body.
func field(d *logical.FieldData, name string, t logical.FieldType) (any, error) {
	d.Schema = map[string]*logical.Field{name: {Type: t}}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d.Get(name), nil
}

func (h *Handler) handleInit(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPut, http.MethodPost) {
		return
	}
	if r.Method == http.MethodGet {
		ok, err := h.core.Initialized(r.Context())
		if err != nil {
			h.writeError(w, "", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"initialized": ok})
		return
	}
	d, ok := readBody(w, r)
	if !ok {
		return
	}
	var p core.InitParams
	for _, f := range []struct {
		name string
		dst  *int
	}{{"secret_shares", &p.SecretShares}, {"secret_threshold", &p.SecretThreshold},
		{"recovery_shares", &p.RecoveryShares}, {"recovery_threshold", &p.RecoveryThreshold}} {
		v, err := field(d, f.name, logical.TypeInt)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, err.Error())
			return
		}
		*f.dst = v.(int)
	}
	for _, unsupported := range []string{"pgp_keys", "root_token_pgp_key", "recovery_pgp_keys"} {
		if v, ok := d.Raw[unsupported]; ok && v != nil && v != "" {
			writeErrors(w, http.StatusBadRequest, unsupported+" is not supported: Coffer hands out key shares in the clear over TLS")
			return
		}
	}
	res, err := h.core.Initialize(r.Context(), p)
	if errors.Is(err, core.ErrAlreadyInitialized) {
		writeErrors(w, http.StatusBadRequest, "Vault is already initialized")
		return
	}
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"keys": hexAll(res.Keys), "keys_base64": b64All(res.Keys),
		"recovery_keys": hexAll(res.RecoveryKeys), "recovery_keys_base64": b64All(res.RecoveryKeys),
		"root_token": res.RootToken,
	})
}

func hexAll(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = hex.EncodeToString(k)
	}
	return out
}

func b64All(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = base64.StdEncoding.EncodeToString(k)
	}
	return out
}

// decodeShare accepts a key share as hex or base64, as Vault does.
func decodeShare(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	return nil, errors.New("'key' must be a valid hex or base64 string")
}

func (h *Handler) sealStatusBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	s, err := h.core.SealStatus(r.Context())
	if err != nil {
		h.writeError(w, "", err)
		return nil, false
	}
	return map[string]any{
		"type": s.Type, "initialized": s.Initialized, "sealed": s.Sealed,
		"t": s.Threshold, "n": s.Shares, "progress": s.Progress, "nonce": s.Nonce,
		"version": version.VaultAPIVersion, "coffer_version": version.Version,
		"build_date": version.BuildDate, "migration": false,
		"cluster_name": s.ClusterName, "cluster_id": s.ClusterID,
		"recovery_seal": s.RecoverySeal, "storage_type": s.StorageType, "removed_from_cluster": false,
	}, true
}

func (h *Handler) handleSealStatus(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	if body, ok := h.sealStatusBody(w, r); ok {
		writeJSON(w, http.StatusOK, body)
	}
}

func (h *Handler) handleUnseal(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	d, ok := readBody(w, r)
	if !ok {
		return
	}
	reset, err := field(d, "reset", logical.TypeBool)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	if reset.(bool) {
		h.core.ResetUnseal()
	} else {
		key, err := field(d, "key", logical.TypeString)
		if err != nil || key.(string) == "" {
			writeErrors(w, http.StatusBadRequest, "'key' must be specified in request body as JSON, or 'reset' set to true")
			return
		}
		share, err := decodeShare(key.(string))
		if err != nil {
			writeErrors(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := h.core.Unseal(r.Context(), share); err != nil {
			if errors.Is(err, core.ErrBadUnsealKey) {
				writeErrors(w, http.StatusBadRequest, "Unseal failed, invalid key")
				return
			}
			h.writeError(w, "", err)
			return
		}
	}
	h.handleSealStatus(w, &http.Request{Method: http.MethodGet, URL: r.URL, Header: r.Header})
}

func (h *Handler) handleSeal(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	req := &logical.Request{ID: newRequestID(), Operation: logical.UpdateOperation, Path: "sys/seal",
		ClientToken: clientToken(r), RemoteAddr: remoteIP(r)}
	if err := h.core.SealWithRequest(r.Context(), req); err != nil {
		h.writeError(w, req.ID, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// healthCode reads a status override such as ?sealedcode=200.
func healthCode(r *http.Request, name string, def int) int {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 599 {
		return def
	}
	return n
}

func (h *Handler) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	initialized, err := h.core.Initialized(r.Context())
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, "storage unavailable")
		return
	}
	sealed := h.core.Sealed()
	ha := h.core.HAStatus(r.Context())
	standby := ha.Enabled && !ha.Active && !sealed
	code := healthCode(r, "activecode", http.StatusOK)
	switch {
	case !initialized:
		code = healthCode(r, "uninitcode", http.StatusNotImplemented)
	case sealed:
		code = healthCode(r, "sealedcode", http.StatusServiceUnavailable)
	case standby && !queryBool(r, "standbyok"):
		code = healthCode(r, "standbycode", http.StatusTooManyRequests)
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(code)
		return
	}
	s, _ := h.core.SealStatus(r.Context())
	body := map[string]any{
		"initialized": initialized, "sealed": sealed, "standby": standby, "performance_standby": false,
		"replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
		"server_time_utc": time.Now().Unix(), "version": version.VaultAPIVersion,
		"coffer_version": version.Version, "enterprise": false, "echo_duration_ms": 0,
		"clock_skew_ms": 0, "removed_from_cluster": false,
	}
	if s != nil && s.ClusterID != "" {
		body["cluster_name"], body["cluster_id"] = s.ClusterName, s.ClusterID
	}
	writeJSON(w, code, body)
}

func (h *Handler) handleLeader(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet) {
		return
	}
	if h.core.Sealed() {
		writeErrors(w, http.StatusServiceUnavailable, logical.ErrSealed.Error())
		return
	}
	ha := h.core.HAStatus(r.Context())
	activeTime := time.Time{}.Format(time.RFC3339)
	if !ha.ActiveSince.IsZero() {
		activeTime = ha.ActiveSince.Format(time.RFC3339Nano)
	}
	body := map[string]any{
		"ha_enabled": ha.Enabled, "is_self": ha.Enabled && ha.Active, "active_time": activeTime,
		"leader_address": ha.LeaderAPIAddr, "leader_cluster_address": ha.LeaderClusterAddr,
		"performance_standby": false, "performance_standby_last_remote_wal": 0,
	}
	if ha.Enabled {
		body["raft_committed_index"], body["raft_applied_index"] = ha.CommitIndex, ha.AppliedIndex
	}
	writeJSON(w, http.StatusOK, body)
}

// queryBool reads a boolean query parameter ("true", "1"; a bare name).
func queryBool(r *http.Request, name string) bool {
	q := r.URL.Query()
	if !q.Has(name) {
		return false
	}
	v, err := strconv.ParseBool(q.Get(name))
	return err == nil && v || q.Get(name) == ""
}
