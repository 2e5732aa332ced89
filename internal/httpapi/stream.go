package httpapi

import (
	"net/http"
	"strconv"

	"github.com/cofferdev/coffer/internal/logical"
)

// rawBodyPaths take their POST/PUT body as raw bytes (a snapshot upload),
// handed to the pipeline in Request.Body instead of being decoded as JSON,
// as Vault does for the same paths.
var rawBodyPaths = map[string]bool{
	"/v1/sys/storage/raft/snapshot":       true,
	"/v1/sys/storage/raft/snapshot-force": true,
}

// buildLogicalRequest is buildRequest, except that on a raw-body path the
// body is left unread and passed on in Request.Body.
func (h *Handler) buildLogicalRequest(w http.ResponseWriter, r *http.Request) (*logical.Request, int, error) {
	if !rawBodyPaths[r.URL.Path] || (r.Method != http.MethodPost && r.Method != http.MethodPut) {
		return h.buildRequest(w, r)
	}
	body := r.Body
	r.Body = http.NoBody
	req, status, err := h.buildRequest(w, r)
	r.Body = body
	if req != nil {
		req.Body = body
	}
	return req, status, err
}

// writeStream sends a streaming response: the content type and 200, then
// the body. A failure after the first byte can only cut the body short;
// it is logged, and the client sees a truncated body.
func (h *Handler) writeStream(w http.ResponseWriter, requestID string, s *logical.Stream) {
	if s.Close != nil {
		defer func() {
			if err := s.Close(); err != nil {
				h.logger.Warn("http: closing a streamed response failed", "request_id", requestID, "error", err)
			}
		}()
	}
	w.Header().Set("Content-Type", s.ContentType)
	w.Header().Set("X-Request-Id", requestID)
	w.WriteHeader(http.StatusOK)
	cw := &countingWriter{w: w}
	if err := s.WriteTo(cw); err != nil {
		h.logger.Error("http: streamed response cut short", "request_id", requestID,
			"bytes", strconv.FormatInt(cw.n, 10), "error", err)
	}
}

type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
