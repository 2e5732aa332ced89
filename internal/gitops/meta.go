package gitops

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

const (
	metaHeader    = "coffer:v1"
	metaRecipient = "coffer:recipient "
	metaMAC       = "coffer:mac "
	// maxMetaLines bounds the recipient block of a hostile file.
	maxMetaLines = 1024
)

// Stanza is one recipient's copy of the wrapped data key.
type Stanza struct {
	// Recipient is the normalised recipient string (see ParseRecipient).
	Recipient string
	// Wrapped is the data key wrapped for Recipient.
	Wrapped string
}

// meta is a file's recipient block.
type meta struct {
	noEOL   bool
	stanzas []Stanza
	mac     string
}

// lines renders the block without comment markers.
func (m *meta) lines() []string {
	h := metaHeader
	if m.noEOL {
		h += " noeol"
	}
	out := []string{h}
	for _, s := range m.stanzas {
		out = append(out, metaRecipient+s.Recipient+" "+s.Wrapped)
	}
	return append(out, metaMAC+m.mac)
}

// parseMetaLines parses the lines of a recipient block.
func parseMetaLines(lines []string) (*meta, error) {
	if len(lines) < 2 || len(lines) > maxMetaLines {
		return nil, fmt.Errorf("%w: recipient block has %d lines", ErrMalformed, len(lines))
	}
	m := &meta{}
	switch lines[0] {
	case metaHeader:
	case metaHeader + " noeol":
		m.noEOL = true
	default:
		return nil, fmt.Errorf("%w: recipient block header %q", ErrMalformed, lines[0])
	}
	for _, l := range lines[1 : len(lines)-1] {
		rest, ok := strings.CutPrefix(l, metaRecipient)
		i := strings.LastIndexByte(rest, ' ')
		if !ok || i <= 0 || i == len(rest)-1 {
			return nil, fmt.Errorf("%w: bad recipient line %q", ErrMalformed, truncate(l))
		}
		m.stanzas = append(m.stanzas, Stanza{Recipient: rest[:i], Wrapped: rest[i+1:]})
	}
	mac, ok := strings.CutPrefix(lines[len(lines)-1], metaMAC)
	if !ok || len(m.stanzas) == 0 {
		return nil, fmt.Errorf("%w: recipient block without recipients or mac", ErrMalformed)
	}
	m.mac = mac
	return m, nil
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// computeMAC authenticates the header and every recipient line.
func (m *meta) computeMAC(k *DataKey) string {
	h := hmac.New(sha256.New, k.derive(infoMAC))
	ls := m.lines()
	for _, l := range ls[:len(ls)-1] {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// verify checks the block's MAC in constant time.
func (m *meta) verify(k *DataKey) error {
	want, err := base64.StdEncoding.DecodeString(m.mac)
	if err != nil {
		return fmt.Errorf("%w: mac is not base64", ErrRecipientsModified)
	}
	got, _ := base64.StdEncoding.DecodeString(m.computeMAC(k))
	if !hmac.Equal(got, want) {
		return ErrRecipientsModified
	}
	return nil
}

// Recipients lists the recipients the block wraps the key for.
func (m *meta) recipients() []string {
	out := make([]string, len(m.stanzas))
	for i, s := range m.stanzas {
		out[i] = s.Recipient
	}
	return out
}

// commentBlock stores the recipient block as trailing "#" comments (YAML,
// .env, INI).
type commentBlock struct{}

func (commentBlock) attach(body []byte, m *meta) []byte {
	out := append([]byte(nil), body...)
	m.noEOL = len(out) > 0 && out[len(out)-1] != '\n'
	if m.noEOL {
		out = append(out, '\n')
	}
	for _, l := range m.lines() {
		out = append(out, '#')
		out = append(out, l...)
		out = append(out, '\n')
	}
	return out
}

// detach splits a file into body and recipient block; the block is nil
// when the file is not sealed.
func (commentBlock) detach(src []byte) ([]byte, *meta, error) {
	marker := []byte("#" + metaHeader)
	i := bytes.LastIndex(src, marker)
	for i > 0 && src[i-1] != '\n' {
		i = bytes.LastIndex(src[:i], marker)
	}
	if i < 0 {
		return src, nil, nil
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(src[i:]), "\n"), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if !strings.HasPrefix(l, "#coffer:") {
			return nil, nil, fmt.Errorf("%w: text after the recipient block", ErrMalformed)
		}
		lines = append(lines, l[1:])
	}
	m, err := parseMetaLines(lines)
	if err != nil {
		return nil, nil, err
	}
	body := src[:i]
	if m.noEOL {
		if len(body) == 0 || body[len(body)-1] != '\n' {
			return nil, nil, fmt.Errorf("%w: noeol block without a newline before it", ErrMalformed)
		}
		body = body[:len(body)-1]
	}
	return body, m, nil
}
