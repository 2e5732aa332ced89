package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// checkpointDomain separates checkpoint signatures from any other use of
// the signing key.
const checkpointDomain = "coffer-audit-checkpoint-v1\n"

// signatureField starts the last field of a checkpoint line.
const signatureField = `,"signature":"`

// FormatVersion is recorded in every header line.
const FormatVersion = "coffer-audit-v1"

// chain is the hash-chain state of one sink: the seq and hash of the last
// line written, and how much has been written since the last checkpoint.
// It is guarded by its sink's lock.
type chain struct {
	seq      uint64
	last     [sha256.Size]byte
	started  bool // false until the first line: prev_hash is then ""
	unsigned int  // lines since the last checkpoint
	// firstUnsigned is when the oldest unsigned line was written.
	firstUnsigned time.Time
}

// linePrefixRoom is the room an entry buffer keeps before its body for
// the line's {"seq":N,"prev_hash":"<64 hex>", prefix (at most 107 bytes, the
// last of which overwrites the body's opening brace).
const linePrefixRoom = 112

// line builds the next line (without newline) from a JSON object body.
func (c *chain) line(body []byte) []byte {
	buf := make([]byte, linePrefixRoom, linePrefixRoom+len(body)+1)
	return c.lineInto(append(buf, body...))
}

// lineInto turns buf, linePrefixRoom bytes of room followed by a JSON
// object body, into the next line in place: the prefix is written just
// before the body, over its opening brace. It returns the line (a suffix
// of buf, without newline).
func (c *chain) lineInto(buf []byte) []byte {
	var pre [linePrefixRoom + 1]byte
	p := append(pre[:0], `{"seq":`...)
	p = strconv.AppendUint(p, c.seq+1, 10)
	p = append(p, `,"prev_hash":"`...)
	if c.started {
		p = hex.AppendEncode(p, c.last[:])
	}
	p = append(p, `",`...)
	start := linePrefixRoom + 1 - len(p)
	copy(buf[start:], p)
	return buf[start:]
}

// appendLines builds p's one or two entries into lines in place, appends
// them to out with their newlines, and advances c past them.
func (c *chain) appendLines(out []byte, p *pending, now time.Time) []byte {
	first := p.buf
	if p.split > 0 {
		first = p.buf[:p.split]
	}
	line := c.lineInto(first)
	c.commit(line, false, now)
	out = append(append(out, line...), '\n')
	if p.split > 0 {
		line = c.lineInto(p.buf[p.split:])
		c.commit(line, false, now)
		out = append(append(out, line...), '\n')
	}
	return out
}

// commit advances the chain past a line that was written.
func (c *chain) commit(line []byte, checkpoint bool, now time.Time) {
	c.seq++
	c.last = sha256.Sum256(line)
	c.started = true
	if checkpoint {
		c.unsigned = 0
		return
	}
	if c.unsigned == 0 {
		c.firstUnsigned = now
	}
	c.unsigned++
}

// resume sets the chain to continue after an existing last line.
func (c *chain) resume(last []byte) error {
	l, err := ParseLine(last)
	if err != nil {
		return fmt.Errorf("audit: cannot continue the chain after the file's last line: %w", err)
	}
	c.seq = l.Seq
	c.last = sha256.Sum256(last)
	c.started = true
	if l.Type != TypeCheckpoint {
		c.unsigned = 1
	}
	return nil
}

// headerBody is the first line of every new file or connection: it records
// the format and, once it exists, the checkpoint public key.
func headerBody(now time.Time, sink string, pub ed25519.PublicKey) []byte {
	h := struct {
		Type      string `json:"type"`
		Time      string `json:"time"`
		Format    string `json:"format"`
		Sink      string `json:"sink"`
		PublicKey string `json:"public_key,omitempty"`
	}{TypeHeader, now.UTC().Format(time.RFC3339Nano), FormatVersion, sink, encodeKey(pub)}
	b, _ := json.Marshal(h) // only strings: cannot fail
	return b
}

// checkpointLine builds a signed checkpoint line continuing c.
func (c *chain) checkpointLine(now time.Time, priv ed25519.PrivateKey, final bool) []byte {
	body := struct {
		Type      string `json:"type"`
		Time      string `json:"time"`
		PublicKey string `json:"public_key"`
		Entries   int    `json:"entries"`
		Final     bool   `json:"final,omitempty"`
	}{TypeCheckpoint, now.UTC().Format(time.RFC3339Nano), encodeKey(priv.Public().(ed25519.PublicKey)), c.unsigned, final}
	b, _ := json.Marshal(body) // only strings, ints and a bool: cannot fail
	unsigned := c.line(b)
	unsigned = unsigned[:len(unsigned)-1] // drop the closing brace
	sig := ed25519.Sign(priv, signedMessage(unsigned))
	out := append(unsigned, signatureField...)
	out = base64.StdEncoding.AppendEncode(out, sig)
	return append(out, `"}`...)
}

// signedMessage is what a checkpoint's signature covers.
func signedMessage(prefix []byte) []byte {
	return append([]byte(checkpointDomain), prefix...)
}

func encodeKey(pub ed25519.PublicKey) string {
	if pub == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(pub)
}
