package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxLineSize bounds one line the verifier and the tail reader accept.
const MaxLineSize = 16 << 20

// Line is what the verifier needs from one log line.
type Line struct {
	Seq       uint64
	PrevHash  string
	Type      string
	PublicKey string
	Final     bool
	// Signature and Signed are set for checkpoints: the Ed25519 signature
	// and the message it must verify over.
	Signature []byte
	Signed    []byte
}

// lineHead is the JSON shape ParseLine decodes.
type lineHead struct {
	Seq       *uint64 `json:"seq"`
	PrevHash  *string `json:"prev_hash"`
	Type      string  `json:"type"`
	PublicKey string  `json:"public_key"`
	Final     bool    `json:"final"`
	Signature string  `json:"signature"`
}

// ParseLine parses one line (without its newline). It checks the framing
// only: signatures and links are Verify's job.
func ParseLine(line []byte) (Line, error) {
	if len(line) > MaxLineSize {
		return Line{}, errors.New("line too long")
	}
	if !bytes.HasPrefix(line, []byte(`{"seq":`)) {
		return Line{}, errors.New(`not an audit entry (entries start with {"seq":N)`)
	}
	var h lineHead
	if err := json.Unmarshal(line, &h); err != nil {
		return Line{}, fmt.Errorf("not valid JSON: %w", err)
	}
	if h.Seq == nil || *h.Seq == 0 || h.PrevHash == nil || h.Type == "" {
		return Line{}, errors.New("seq, prev_hash or type missing")
	}
	l := Line{Seq: *h.Seq, PrevHash: *h.PrevHash, Type: h.Type, PublicKey: h.PublicKey, Final: h.Final}
	if len(l.PrevHash) != 0 && len(l.PrevHash) != 64 {
		return Line{}, errors.New("prev_hash is not a SHA-256 hex digest")
	}
	if l.Type != TypeCheckpoint {
		if h.Signature != "" {
			return Line{}, errors.New("only checkpoints carry a signature")
		}
		return l, nil
	}
	i := bytes.LastIndex(line, []byte(signatureField))
	if i < 0 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return Line{}, errors.New("checkpoint does not end with its signature")
	}
	sig, err := base64.StdEncoding.DecodeString(string(line[i+len(signatureField) : len(line)-2]))
	if err != nil || len(sig) != 64 || base64.StdEncoding.EncodeToString(sig) != h.Signature {
		return Line{}, errors.New("checkpoint signature is malformed")
	}
	l.Signature = sig
	l.Signed = signedMessage(line[:i])
	return l, nil
}
