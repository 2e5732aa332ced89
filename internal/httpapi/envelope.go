package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/logical"
)

// envelope is Vault's response body.
type envelope struct {
	RequestID     string         `json:"request_id"`
	LeaseID       string         `json:"lease_id"`
	Renewable     bool           `json:"renewable"`
	LeaseDuration int64          `json:"lease_duration"`
	Data          map[string]any `json:"data"`
	WrapInfo      *wrapInfoJSON  `json:"wrap_info"`
	Warnings      []string       `json:"warnings"`
	Auth          *authJSON      `json:"auth"`
	MountType     string         `json:"mount_type"`
}

type authJSON struct {
	ClientToken      string            `json:"client_token"`
	Accessor         string            `json:"accessor"`
	Policies         []string          `json:"policies"`
	TokenPolicies    []string          `json:"token_policies"`
	IdentityPolicies []string          `json:"identity_policies,omitempty"`
	Metadata         map[string]string `json:"metadata"`
	LeaseDuration    int64             `json:"lease_duration"`
	Renewable        bool              `json:"renewable"`
	EntityID         string            `json:"entity_id"`
	TokenType        string            `json:"token_type"`
	Orphan           bool              `json:"orphan"`
	MFARequirement   any               `json:"mfa_requirement"`
	NumUses          int               `json:"num_uses"`
}

type wrapInfoJSON struct {
	Token           string `json:"token"`
	Accessor        string `json:"accessor"`
	TTL             int64  `json:"ttl"`
	CreationTime    string `json:"creation_time"`
	CreationPath    string `json:"creation_path"`
	WrappedAccessor string `json:"wrapped_accessor,omitempty"`
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// writeResponse writes a logical response as Vault would.
func writeResponse(w http.ResponseWriter, requestID string, resp *logical.Response) {
	if resp == nil {
		writeErrors(w, http.StatusNotFound)
		return
	}
	if resp.NoContent && resp.Data == nil && resp.Auth == nil && resp.WrapInfo == nil && len(resp.Warnings) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	env := envelope{RequestID: requestID, Data: resp.Data, Warnings: resp.Warnings}
	if s := resp.Secret; s != nil {
		env.LeaseID, env.Renewable, env.LeaseDuration = s.LeaseID, s.Renewable, seconds(s.TTL)
	}
	if a := resp.Auth; a != nil {
		env.Auth = &authJSON{ClientToken: a.ClientToken, Accessor: a.Accessor, Policies: a.Policies,
			TokenPolicies: a.TokenPolicies, IdentityPolicies: a.IdentityPolicies, Metadata: a.Metadata,
			LeaseDuration: seconds(a.TTL), Renewable: a.Renewable, EntityID: a.EntityID,
			TokenType: a.TokenType, Orphan: a.Orphan, NumUses: a.NumUses}
	}
	if wi := resp.WrapInfo; wi != nil {
		env.Data = nil
		env.WrapInfo = &wrapInfoJSON{Token: wi.Token, Accessor: wi.Accessor, TTL: seconds(wi.TTL),
			CreationTime: wi.CreationTime.Format(time.RFC3339Nano), CreationPath: wi.CreationPath,
			WrappedAccessor: wi.WrappedAccessor}
	}
	status := http.StatusOK
	switch {
	case resp.NotFound:
		status = http.StatusNotFound
	case resp.PartialFailure:
		status = http.StatusBadRequest
	}
	writeJSON(w, status, env)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, "failed to encode response")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeErrors writes {"errors": [...]}; with no messages the list is empty.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	b, _ := json.Marshal(map[string][]string{"errors": msgs})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// statusFor maps an error kind to its HTTP status.
func statusFor(kind logical.Kind) int {
	switch kind {
	case logical.KindInvalidRequest:
		return http.StatusBadRequest
	case logical.KindPermissionDenied:
		return http.StatusForbidden
	case logical.KindUnsupportedPath:
		return http.StatusNotFound
	case logical.KindUnsupportedOperation:
		return http.StatusMethodNotAllowed
	case logical.KindSealed, logical.KindStandby:
		return http.StatusServiceUnavailable
	case logical.KindNotInitialized:
		return http.StatusNotImplemented
	case logical.KindRateLimited:
		return http.StatusTooManyRequests
	case logical.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case logical.KindConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// writeError answers with the error's status. Errors without a kind are
// internal: the client sees a generic message and the request id, the log
// gets the detail (which never contains secret values).
func (h *Handler) writeError(w http.ResponseWriter, requestID string, err error) {
	if errors.Is(err, barrier.ErrSealed) {
		err = logical.ErrSealed
	}
	kind := logical.KindOf(err)
	status := statusFor(kind)
	if kind == logical.KindInternal {
		h.logger.Error("http: internal error", "request_id", requestID, "error", err)
		writeErrors(w, status, "internal error; see the server log for request "+requestID)
		return
	}
	writeErrors(w, status, err.Error())
}
