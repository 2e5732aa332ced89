package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cofferdev/coffer/internal/jsonenc"
)

// appendEntry encodes e as one JSON object, redacting as it goes. It is the
// fast path of json.Marshal(h.redact(e)) and produces the same JSON value
// (TestAppendEntryMatchesRedact): no intermediate maps, no reflection, no
// allocation for the usual shapes. Fields follow the order of Entry's
// declaration; map keys are sorted.
func (h *hasher) appendEntry(b []byte, e *Entry) []byte {
	return h.appendTail(h.appendParts(appendHead(b, e), e), e)
}

// appendHead appends the opening of e's object: its type and time.
func appendHead(b []byte, e *Entry) []byte {
	b = append(b, `{"type":`...)
	b = jsonenc.AppendString(b, e.Type)
	b = append(b, `,"time":`...)
	if e.Time == "" && !e.at.IsZero() {
		// RFC 3339 needs no JSON escaping.
		return append(e.at.UTC().AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
	}
	return jsonenc.AppendString(b, e.Time)
}

// appendParts appends e's auth and request parts, which a request entry
// and its response entry share.
func (h *hasher) appendParts(b []byte, e *Entry) []byte {
	if e.Auth != nil {
		b = h.appendAuth(append(b, `,"auth":`...), e.Auth)
	}
	if r := e.Request; r != nil {
		b = h.appendRequest(append(b, `,"request":`...), r)
	}
	return b
}

// appendTail appends e's response and error and closes the object.
func (h *hasher) appendTail(b []byte, e *Entry) []byte {
	if r := e.Response; r != nil {
		b = h.appendResponse(append(b, `,"response":`...), r)
	}
	if e.Error != "" {
		b = jsonenc.AppendString(append(b, `,"error":`...), e.Error)
	}
	return append(b, '}')
}

// key appends the comma (unless first) and "name": of the next field.
func key(b []byte, first bool, name string) []byte {
	if !first {
		b = append(b, ',')
	}
	return append(jsonenc.AppendString(b, name), ':')
}

// field appends ,"name":"value" when value is not empty; first is the
// object's first field (no comma). It returns the updated first flag.
func field(b []byte, first bool, name, value string) ([]byte, bool) {
	if value == "" {
		return b, first
	}
	return jsonenc.AppendString(key(b, first, name), value), false
}

// secretField is field for a value that is hashed (or left out while
// sealed; written plain with log_raw).
func (h *hasher) secretField(b []byte, first bool, name, value string) ([]byte, bool) {
	if value == "" || !h.canRedact() {
		return b, first
	}
	return h.appendSecret(key(b, first, name), value), false
}

// accessorField is secretField for an accessor, which hmac_accessor=false
// writes plain.
func (h *hasher) accessorField(b []byte, first bool, name, value string) ([]byte, bool) {
	if !h.hashAccessor {
		return field(b, first, name, value)
	}
	return h.secretField(b, first, name, value)
}

func (h *hasher) appendAuth(b []byte, a *Auth) []byte {
	b = append(b, '{')
	f := true
	if a.tokenID != "" && h.key != nil && !h.raw {
		ch := h.callers.get(h, a)
		b, f = field(b, f, "client_token", ch.token)
		if h.hashAccessor {
			b, f = field(b, f, "accessor", ch.accessorMAC)
		} else {
			b, f = field(b, f, "accessor", a.Accessor)
		}
	} else {
		b, f = h.secretField(b, f, "client_token", a.ClientToken)
		b, f = h.accessorField(b, f, "accessor", a.Accessor)
	}
	b, f = field(b, f, "display_name", a.DisplayName)
	if len(a.Policies) > 0 {
		b, f = jsonenc.AppendStrings(key(b, f, "policies"), a.Policies), false
	}
	b, f = field(b, f, "entity_id", a.EntityID)
	b, _ = field(b, f, "token_type", a.TokenType)
	return append(b, '}')
}

func (h *hasher) appendRequest(b []byte, r *Request) []byte {
	b = append(b, '{')
	f := true
	b, f = field(b, f, "id", r.ID)
	b = jsonenc.AppendString(key(b, f, "operation"), r.Operation)
	b = jsonenc.AppendString(append(b, `,"path":`...), r.Path)
	b, _ = field(b, false, "mount_point", r.MountPoint)
	if len(r.Data) > 0 && h.canRedact() {
		b = h.appendMap(append(b, `,"data":`...), r.Data)
	}
	b, _ = field(b, false, "remote_address", r.RemoteAddress)
	b = h.appendHeaders(b, r.Headers)
	if r.WrapTTL != 0 {
		b = strconv.AppendInt(append(b, `,"wrap_ttl":`...), r.WrapTTL, 10)
	}
	return append(b, '}')
}

// appendHeaders appends ,"headers":{...} with the configured headers hdr
// has, if any, sorted by name.
func (h *hasher) appendHeaders(b []byte, hdr map[string][]string) []byte {
	if len(h.headers) == 0 || len(hdr) == 0 {
		return b
	}
	var buf [8]string
	names := buf[:0]
	for _, name := range h.headers {
		if _, ok := hdr[name]; ok {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return b
	}
	slices.Sort(names)
	b = append(b, `,"headers":{`...)
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendStrings(append(jsonenc.AppendString(b, k), ':'), hdr[k])
	}
	return append(b, '}')
}

func (h *hasher) appendResponse(b []byte, r *Response) []byte {
	b = append(b, '{')
	f := true
	if r.Status != 0 {
		b, f = strconv.AppendInt(append(b, `"status":`...), int64(r.Status), 10), false
	}
	if len(r.Data) > 0 && h.canRedact() {
		b, f = h.appendMap(key(b, f, "data"), r.Data), false
	}
	if r.Auth != nil {
		b, f = h.appendAuth(key(b, f, "auth"), r.Auth), false
	}
	if wi := r.WrapInfo; wi != nil {
		b, f = h.appendWrapInfo(key(b, f, "wrap_info"), wi), false
	}
	b, f = field(b, f, "lease_id", r.LeaseID)
	if len(r.Warnings) > 0 {
		b = jsonenc.AppendStrings(key(b, f, "warnings"), r.Warnings)
	}
	return append(b, '}')
}

func (h *hasher) appendWrapInfo(b []byte, wi *WrapInfo) []byte {
	b = append(b, '{')
	f := true
	b, f = h.secretField(b, f, "token", wi.Token)
	b, f = h.accessorField(b, f, "accessor", wi.Accessor)
	if wi.TTL != 0 {
		b, f = strconv.AppendInt(key(b, f, "ttl"), wi.TTL, 10), false
	}
	b, f = field(b, f, "creation_path", wi.CreationPath)
	b, _ = h.accessorField(b, f, "wrapped_accessor", wi.WrappedAccessor)
	return append(b, '}')
}

// appendMap appends m with every string inside it redacted; keys stay.
func (h *hasher) appendMap(b []byte, m map[string]any) []byte {
	var buf [16]string
	b = append(b, '{')
	for i, k := range jsonenc.SortedKeys(buf[:], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = h.appendValue(append(jsonenc.AppendString(b, k), ':'), m[k])
	}
	return append(b, '}')
}

// appendValue appends v with every string inside it hashed as hasher.value
// does; the key must be set or log_raw on.
func (h *hasher) appendValue(b []byte, v any) []byte {
	switch t := v.(type) {
	case string:
		return h.appendSecret(b, t)
	case map[string]any:
		return h.appendMap(b, t)
	case []any:
		b = append(b, '[')
		for i, x := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = h.appendValue(b, x)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, x := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = h.appendSecret(b, x)
		}
		return append(b, ']')
	case map[string]string:
		var buf [16]string
		b = append(b, '{')
		for i, k := range jsonenc.SortedKeys(buf[:], t) {
			if i > 0 {
				b = append(b, ',')
			}
			b = h.appendSecret(append(jsonenc.AppendString(b, k), ':'), t[k])
		}
		return append(b, '}')
	case nil, bool, int, int64, int32, uint, uint64, uint32, float64, float32, json.Number:
		if out, err := jsonenc.AppendValue(b, t); err == nil {
			return out
		}
	}
	// Anything else may hold a secret in a form this switch does not know:
	// hash its printed form.
	return h.appendSecret(b, fmt.Sprint(v))
}
