package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/netctl"
)

// clientIPKey carries the client address admit resolved in a request's
// context, so every later use (logical requests, audit entries, logs) sees
// the same address.
type clientIPKey struct{}

// admit applies the network controls before anything else runs, in this
// order: resolve the client address (X-Forwarded-For from trusted proxies
// only), blocklist and bans, the listener's allowed_cidrs, path rules, then
// rate-limit quotas. Address denials are 403 "permission denied" whether or
// not the path exists; an exceeded quota is 429 with Retry-After. Every
// refusal is audited. It returns the request carrying the client address,
// and false when it already answered.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	access := h.access
	ip, err := access.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), netctl.ErrForwardedFor.Error()+": ")
		h.refuse(w, r, http.StatusBadRequest, err, msg)
		return nil, false
	}
	if access.TrustsProxies() {
		// Only then can the client differ from the peer remoteIP parses.
		r = r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip))
	}
	apiPath := strings.TrimPrefix(r.URL.Path, "/v1/")
	if h.network != nil {
		err = h.network.CheckAddr(ip)
	}
	if err == nil {
		err = access.Allow(ip, apiPath)
	}
	if err != nil {
		h.refuse(w, r, http.StatusForbidden, err, "permission denied")
		return nil, false
	}
	if h.network == nil {
		return r, true
	}
	d := h.network.RateLimit(apiPath, ip)
	if d.Headers && d.Quota != "" {
		w.Header().Set("X-Ratelimit-Limit", strconv.Itoa(d.Limit))
		w.Header().Set("X-Ratelimit-Remaining", strconv.Itoa(d.Remaining))
		w.Header().Set("X-Ratelimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
	}
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, ceilSeconds(d.RetryAfter))))
		reason := fmt.Errorf("request path %q: rate limit quota exceeded", apiPath)
		h.refuse(w, r, http.StatusTooManyRequests, reason, reason.Error())
		return nil, false
	}
	return r, true
}

// refuse audits a refused request and answers it with status and msg, or
// with the audit failure when no required sink took the entry.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, reason error, msg string) {
	if aerr := h.auditRejected(r, status, reason); aerr != nil {
		h.writeError(w, "", aerr)
		return
	}
	if h.logger.Enabled(r.Context(), slog.LevelDebug) {
		h.logger.Debug("http: request refused by network controls", "path", r.URL.Path,
			"remote", remoteIP(r), "status", status, "reason", reasonText(reason))
	}
	writeErrors(w, status, msg)
}

// reasonText names the refusal reason for logs without request data.
func reasonText(err error) string {
	for _, s := range []error{netctl.ErrBlocked, netctl.ErrBanned, netctl.ErrNotAllowed, netctl.ErrForwardedFor} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "rate limit quota exceeded"
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
