package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/logical"
)

// AuditStatus is the status handleLogical answers a pipeline outcome with;
// the core records it in audit response entries.
func AuditStatus(op logical.Operation, resp *logical.Response, err error) int {
	if err != nil {
		if errors.Is(err, barrier.ErrSealed) {
			return http.StatusServiceUnavailable
		}
		return statusFor(logical.KindOf(err))
	}
	switch {
	case resp == nil && (op == logical.ReadOperation || op == logical.ListOperation):
		return http.StatusNotFound
	case resp == nil:
		return http.StatusNoContent
	case resp.NoContent && resp.Data == nil && resp.Auth == nil && resp.WrapInfo == nil && len(resp.Warnings) == 0:
		return http.StatusNoContent
	case resp.NotFound:
		return http.StatusNotFound
	}
	return http.StatusOK
}

// audited wraps a lifecycle endpoint the handler serves itself. The request
// entry is written first and, if no required sink takes it, the operation
// does not run (500). The response entry is written after the operation:
// init, rekey and generate-root have by then replaced key material that
// exists only in the response, so a failure there is logged (and shown in
// sys/audit) but the response is still sent. No body is ever recorded.
func (h *Handler) audited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op, _ := operationFor(r)
		ev := core.AuditEvent{ID: newRequestID(), Operation: string(op),
			Path: strings.TrimPrefix(r.URL.Path, "/v1/"), RemoteAddr: remoteIP(r)}
		if op == "" {
			ev.Operation = strings.ToLower(r.Method)
		}
		if err := h.core.AuditLifecycle(r.Context(), audit.TypeRequest, ev); err != nil {
			h.writeError(w, ev.ID, err)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next(sw, r)
		ev.Status = sw.status
		if err := h.core.AuditLifecycle(r.Context(), audit.TypeResponse, ev); err != nil {
			h.logger.Error("http: audit of a lifecycle response failed; the operation had already run",
				"path", ev.Path, "request_id", ev.ID, "error", err)
		}
	}
}

// auditRejected records a request refused before the pipeline (bad method,
// path or body). It returns an error when no required sink took the entry.
func (h *Handler) auditRejected(r *http.Request, status int, reason error) error {
	op, _ := operationFor(r)
	ev := core.AuditEvent{ID: newRequestID(), Operation: string(op), Path: strings.TrimPrefix(r.URL.Path, "/v1/"),
		RemoteAddr: remoteIP(r), Status: status, Err: logical.InvalidRequest("%s", reason.Error())}
	return h.core.AuditLifecycle(r.Context(), audit.TypeResponse, ev)
}

// credentialHeaders never reach the core's Request.Headers: engines and the
// audit log must not see tokens.
var credentialHeaders = map[string]bool{"X-Vault-Token": true, "Authorization": true, "Cookie": true}

// safeHeaders is h without credential headers, for Request.Headers (which
// audit sinks write from, as their `headers` option selects).
func safeHeaders(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		if !credentialHeaders[k] {
			out[k] = v
		}
	}
	return out
}
