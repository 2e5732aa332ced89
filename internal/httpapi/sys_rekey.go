package httpapi

import (
	"context"
	"net/http"

	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/logical"
)

// attemptStart serves the shared shape of sys/rekey/init and
// sys/generate-root/attempt: DELETE cancels, GET reports status, PUT/POST
// returns the validated body (ok) for the caller to start an attempt.
func (h *Handler) attemptStart(w http.ResponseWriter, r *http.Request, cancel func(),
	status func(context.Context) (any, error), schema map[string]*logical.Field) (*logical.FieldData, bool) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete) {
		return nil, false
	}
	switch r.Method {
	case http.MethodDelete:
		cancel()
		w.WriteHeader(http.StatusNoContent)
		return nil, false
	case http.MethodGet:
		body, err := status(r.Context())
		if err != nil {
			h.writeError(w, "", err)
			return nil, false
		}
		writeJSON(w, http.StatusOK, body)
		return nil, false
	}
	d, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	d.Schema = schema
	if err := d.Validate(); err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return d, true
}

func rekeyStatusBody(s *core.RekeyStatus) map[string]any {
	return map[string]any{
		"started": s.Started, "nonce": s.Nonce, "t": s.Threshold, "n": s.Shares,
		"progress": s.Progress, "required": s.Required, "pgp_fingerprints": nil,
		"backup": false, "verification_required": false,
	}
}

// readShareAndNonce reads {"key", "nonce"} of an update call.
func readShareAndNonce(w http.ResponseWriter, r *http.Request) ([]byte, string, bool) {
	d, ok := readBody(w, r)
	if !ok {
		return nil, "", false
	}
	d.Schema = map[string]*logical.Field{"key": {Type: logical.TypeString}, "nonce": {Type: logical.TypeString}}
	if err := d.Validate(); err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return nil, "", false
	}
	share, err := decodeShare(d.String("key"))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return nil, "", false
	}
	if d.String("nonce") == "" {
		writeErrors(w, http.StatusBadRequest, "missing nonce")
		return nil, "", false
	}
	return share, d.String("nonce"), true
}

func (h *Handler) handleRekeyInit(w http.ResponseWriter, r *http.Request) {
	d, ok := h.attemptStart(w, r, h.core.RekeyCancel, func(ctx context.Context) (any, error) {
		s, err := h.core.RekeyStatus(ctx)
		if err != nil {
			return nil, err
		}
		return rekeyStatusBody(s), nil
	}, map[string]*logical.Field{
		"secret_shares": {Type: logical.TypeInt}, "secret_threshold": {Type: logical.TypeInt},
		"backup": {Type: logical.TypeBool}, "require_verification": {Type: logical.TypeBool},
		"pgp_keys": {Type: logical.TypeStringSlice},
	})
	if !ok {
		return
	}
	if len(d.Strings("pgp_keys")) > 0 || d.Bool("backup") || d.Bool("require_verification") {
		writeErrors(w, http.StatusBadRequest, "pgp_keys, backup and require_verification are not supported")
		return
	}
	s, err := h.core.RekeyInit(r.Context(), d.Int("secret_shares"), d.Int("secret_threshold"))
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	writeJSON(w, http.StatusOK, rekeyStatusBody(s))
}

func (h *Handler) handleRekeyUpdate(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	share, nonce, ok := readShareAndNonce(w, r)
	if !ok {
		return
	}
	res, err := h.core.RekeyUpdate(r.Context(), share, nonce)
	if err != nil {
		h.writeUnsealKeyError(w, err)
		return
	}
	if !res.Complete {
		s, err := h.core.RekeyStatus(r.Context())
		if err != nil {
			h.writeError(w, "", err)
			return
		}
		writeJSON(w, http.StatusOK, rekeyStatusBody(s))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"complete": true, "nonce": res.Nonce, "keys": hexAll(res.Keys), "keys_base64": b64All(res.Keys),
		"pgp_fingerprints": nil, "backup": false, "verification_required": false,
	})
}

func (h *Handler) writeUnsealKeyError(w http.ResponseWriter, err error) {
	if err == core.ErrBadUnsealKey {
		writeErrors(w, http.StatusBadRequest, "the key shares do not combine to the current key")
		return
	}
	h.writeError(w, "", err)
}

func genRootBody(s *core.GenerateRootStatus) map[string]any {
	body := map[string]any{
		"started": s.Started, "nonce": s.Nonce, "progress": s.Progress, "required": s.Required,
		"complete": s.Complete, "encoded_token": s.EncodedToken, "encoded_root_token": s.EncodedToken,
		"pgp_fingerprint": "", "otp_length": s.OTPLength,
	}
	if s.OTP != "" {
		body["otp"] = s.OTP
	}
	return body
}

func (h *Handler) handleGenerateRootAttempt(w http.ResponseWriter, r *http.Request) {
	d, ok := h.attemptStart(w, r, h.core.GenerateRootCancel, func(ctx context.Context) (any, error) {
		s, err := h.core.GenerateRootStatus(ctx)
		if err != nil {
			return nil, err
		}
		return genRootBody(s), nil
	}, map[string]*logical.Field{"otp": {Type: logical.TypeString}, "pgp_key": {Type: logical.TypeString}})
	if !ok {
		return
	}
	if d.String("pgp_key") != "" {
		writeErrors(w, http.StatusBadRequest, "pgp_key is not supported; use an otp")
		return
	}
	s, err := h.core.GenerateRootInit(r.Context(), d.String("otp"))
	if err != nil {
		h.writeError(w, "", err)
		return
	}
	writeJSON(w, http.StatusOK, genRootBody(s))
}

func (h *Handler) handleGenerateRootUpdate(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPut, http.MethodPost) {
		return
	}
	share, nonce, ok := readShareAndNonce(w, r)
	if !ok {
		return
	}
	s, err := h.core.GenerateRootUpdate(r.Context(), share, nonce)
	if err != nil {
		h.writeUnsealKeyError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, genRootBody(s))
}
