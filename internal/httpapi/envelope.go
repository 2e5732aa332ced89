package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/jsonenc"
	"github.com/cofferdev/coffer/internal/logical"
)

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
	b, err := appendEnvelope(make([]byte, 0, 512), requestID, resp)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, "failed to encode response")
		return
	}
	status := http.StatusOK
	switch {
	case resp.NotFound:
		status = http.StatusNotFound
	case resp.PartialFailure:
		status = http.StatusBadRequest
	}
	writeBody(w, status, append(b, '\n'))
}

// appendEnvelope appends Vault's response envelope for resp, the bytes
// json.Marshal writes for it (TestAppendEnvelopeMatchesMarshal) without its
// reflection and allocations. Fields are in Vault's order.
func appendEnvelope(b []byte, requestID string, resp *logical.Response) ([]byte, error) {
	var leaseID string
	var renewable bool
	var leaseDuration int64
	if s := resp.Secret; s != nil {
		leaseID, renewable, leaseDuration = s.LeaseID, s.Renewable, seconds(s.TTL)
	}
	b = jsonenc.AppendString(append(b, `{"request_id":`...), requestID)
	b = jsonenc.AppendString(append(b, `,"lease_id":`...), leaseID)
	b = strconv.AppendBool(append(b, `,"renewable":`...), renewable)
	b = strconv.AppendInt(append(b, `,"lease_duration":`...), leaseDuration, 10)
	b = append(b, `,"data":`...)
	if resp.WrapInfo != nil {
		b = append(b, "null"...)
	} else {
		var err error
		if b, err = jsonenc.AppendMap(b, resp.Data); err != nil {
			return nil, fmt.Errorf("encode response data: %w", err)
		}
	}
	b = appendWrapInfo(append(b, `,"wrap_info":`...), resp.WrapInfo)
	b = jsonenc.AppendStrings(append(b, `,"warnings":`...), resp.Warnings)
	b = appendAuth(append(b, `,"auth":`...), resp.Auth)
	return append(b, `,"mount_type":""}`...), nil
}

// appendAuth appends the envelope's auth object, null without one.
func appendAuth(b []byte, a *logical.Auth) []byte {
	if a == nil {
		return append(b, "null"...)
	}
	b = jsonenc.AppendString(append(b, `{"client_token":`...), a.ClientToken)
	b = jsonenc.AppendString(append(b, `,"accessor":`...), a.Accessor)
	b = jsonenc.AppendStrings(append(b, `,"policies":`...), a.Policies)
	b = jsonenc.AppendStrings(append(b, `,"token_policies":`...), a.TokenPolicies)
	if len(a.IdentityPolicies) > 0 {
		b = jsonenc.AppendStrings(append(b, `,"identity_policies":`...), a.IdentityPolicies)
	}
	b = append(b, `,"metadata":`...)
	b, _ = jsonenc.AppendValue(b, a.Metadata) // a map[string]string cannot fail
	b = strconv.AppendInt(append(b, `,"lease_duration":`...), seconds(a.TTL), 10)
	b = strconv.AppendBool(append(b, `,"renewable":`...), a.Renewable)
	b = jsonenc.AppendString(append(b, `,"entity_id":`...), a.EntityID)
	b = jsonenc.AppendString(append(b, `,"token_type":`...), a.TokenType)
	b = strconv.AppendBool(append(b, `,"orphan":`...), a.Orphan)
	b = strconv.AppendInt(append(b, `,"mfa_requirement":null,"num_uses":`...), int64(a.NumUses), 10)
	return append(b, '}')
}

// appendWrapInfo appends the envelope's wrap_info object, null without one.
func appendWrapInfo(b []byte, wi *logical.WrapInfo) []byte {
	if wi == nil {
		return append(b, "null"...)
	}
	b = jsonenc.AppendString(append(b, `{"token":`...), wi.Token)
	b = jsonenc.AppendString(append(b, `,"accessor":`...), wi.Accessor)
	b = strconv.AppendInt(append(b, `,"ttl":`...), seconds(wi.TTL), 10)
	b = append(b, `,"creation_time":"`...)
	b = append(wi.CreationTime.AppendFormat(b, time.RFC3339Nano), '"')
	b = jsonenc.AppendString(append(b, `,"creation_path":`...), wi.CreationPath)
	if wi.WrappedAccessor != "" {
		b = jsonenc.AppendString(append(b, `,"wrapped_accessor":`...), wi.WrappedAccessor)
	}
	return append(b, '}')
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, "failed to encode response")
		return
	}
	writeBody(w, status, append(b, '\n'))
}

// writeBody writes a JSON body with the headers every API answer carries.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeErrors writes {"errors": [...]}; with no messages the list is empty.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	b := jsonenc.AppendStrings(append(make([]byte, 0, 64), `{"errors":`...), msgs)
	writeBody(w, status, append(b, '}', '\n'))
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
