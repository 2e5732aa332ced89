package audit

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendEntry encodes e as one JSON object, redacting as it goes. It is the
// fast path of json.Marshal(h.redact(e)) and produces the same JSON value
// (TestAppendEntryMatchesRedact): no intermediate maps, no reflection.
// Fields follow the order of Entry's declaration; map keys are sorted.
func (h *hasher) appendEntry(b []byte, e *Entry) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"time":`...)
	b = appendString(b, e.Time)
	if a := h.auth(e.Auth); a != nil {
		b = appendAuth(append(b, `,"auth":`...), a)
	}
	if r := e.Request; r != nil {
		b = h.appendRequest(append(b, `,"request":`...), r)
	}
	if r := e.Response; r != nil {
		b = h.appendResponse(append(b, `,"response":`...), r)
	}
	if e.Error != "" {
		b = appendString(append(b, `,"error":`...), e.Error)
	}
	return append(b, '}')
}

// field appends ,"name":"value" when value is not empty; first is the
// object's first field (no comma). It returns the updated first flag.
func field(b []byte, first bool, name, value string) ([]byte, bool) {
	if value == "" {
		return b, first
	}
	if !first {
		b = append(b, ',')
	}
	b = appendString(b, name)
	b = append(b, ':')
	return appendString(b, value), false
}

func appendAuth(b []byte, a *Auth) []byte {
	b = append(b, '{')
	f := true
	b, f = field(b, f, "client_token", a.ClientToken)
	b, f = field(b, f, "accessor", a.Accessor)
	b, f = field(b, f, "display_name", a.DisplayName)
	if len(a.Policies) > 0 {
		if !f {
			b = append(b, ',')
		}
		b = append(b, `"policies":[`...)
		for i, p := range a.Policies {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b, f = append(b, ']'), false
	}
	b, f = field(b, f, "entity_id", a.EntityID)
	b, _ = field(b, f, "token_type", a.TokenType)
	return append(b, '}')
}

func (h *hasher) appendRequest(b []byte, r *Request) []byte {
	b = append(b, '{')
	f := true
	b, f = field(b, f, "id", r.ID)
	if !f {
		b = append(b, ',')
	}
	b = appendString(append(b, `"operation":`...), r.Operation)
	b = appendString(append(b, `,"path":`...), r.Path)
	b, _ = field(b, false, "mount_point", r.MountPoint)
	if d := h.dataOrNil(r.Data); d != nil {
		b = h.appendMap(append(b, `,"data":`...), d)
	}
	b, _ = field(b, false, "remote_address", r.RemoteAddress)
	if hdr := h.headersOf(r.Headers); hdr != nil {
		b = append(b, `,"headers":{`...)
		for i, k := range slices.Sorted(maps.Keys(hdr)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = h.appendValue(append(appendString(b, k), ':'), hdr[k], false)
		}
		b = append(b, '}')
	}
	if r.WrapTTL != 0 {
		b = strconv.AppendInt(append(b, `,"wrap_ttl":`...), r.WrapTTL, 10)
	}
	return append(b, '}')
}

func (h *hasher) appendResponse(b []byte, r *Response) []byte {
	b = append(b, '{')
	f := true
	if r.Status != 0 {
		b, f = strconv.AppendInt(append(b, `"status":`...), int64(r.Status), 10), false
	}
	comma := func() {
		if !f {
			b = append(b, ',')
		}
		f = false
	}
	if d := h.dataOrNil(r.Data); d != nil {
		comma()
		b = h.appendMap(append(b, `"data":`...), d)
	}
	if a := h.auth(r.Auth); a != nil {
		comma()
		b = appendAuth(append(b, `"auth":`...), a)
	}
	if wi := r.WrapInfo; wi != nil {
		comma()
		b = h.appendWrapInfo(append(b, `"wrap_info":`...), wi)
	}
	b, f = field(b, f, "lease_id", r.LeaseID)
	if len(r.Warnings) > 0 {
		comma()
		b = h.appendValue(append(b, `"warnings":`...), r.Warnings, false)
	}
	return append(b, '}')
}

func (h *hasher) appendWrapInfo(b []byte, wi *WrapInfo) []byte {
	b = append(b, '{')
	f := true
	b, f = field(b, f, "token", h.str(wi.Token))
	b, f = field(b, f, "accessor", h.accessor(wi.Accessor))
	if wi.TTL != 0 {
		if !f {
			b = append(b, ',')
		}
		b, f = strconv.AppendInt(append(b, `"ttl":`...), wi.TTL, 10), false
	}
	b, f = field(b, f, "creation_path", wi.CreationPath)
	b, _ = field(b, f, "wrapped_accessor", h.accessor(wi.WrappedAccessor))
	return append(b, '}')
}

// dataOrNil is data's nil rule: no map, or no key while sealed, writes no
// data field.
func (h *hasher) dataOrNil(m map[string]any) map[string]any {
	if m == nil || (h.key == nil && !h.raw) {
		return nil
	}
	return m
}

func (h *hasher) appendMap(b []byte, m map[string]any) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		b = h.appendValue(b, m[k], true)
	}
	return append(b, '}')
}

// appendValue appends v; with redact, strings are hashed as hasher.value
// does (warnings pass redact=false: they are not secret).
func (h *hasher) appendValue(b []byte, v any, redact bool) []byte {
	str := func(s string) string {
		if redact {
			return h.str(s)
		}
		return s
	}
	switch t := v.(type) {
	case string:
		return appendString(b, str(t))
	case map[string]any:
		return h.appendMap(b, t)
	case []any:
		b = append(b, '[')
		for i, x := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = h.appendValue(b, x, redact)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, x := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, str(x))
		}
		return append(b, ']')
	case map[string]string:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = x
		}
		return h.appendMap(b, m)
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, t)
	case int:
		return strconv.AppendInt(b, int64(t), 10)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case json.Number, float64, float32, int32, uint, uint64, uint32:
		out, err := json.Marshal(t)
		if err == nil {
			return append(b, out...)
		}
	}
	return appendString(b, str(fmt.Sprint(v)))
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// (including <, >, & and U+2028/U+2029); invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}
