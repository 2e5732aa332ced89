// Package jsonenc appends JSON to byte slices without reflection for the
// value shapes Coffer's responses and audit entries are made of, producing
// exactly the bytes encoding/json would and falling back to it for the rest.
package jsonenc

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain marks the bytes AppendString copies as they are: printable ASCII
// other than ", \, <, > and &. One load per byte instead of six compares.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// AppendString appends s as a JSON string, escaped as encoding/json escapes
// it (including <, > and & and U+2028/U+2029); invalid UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
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
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
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

// AppendStrings appends ss as a JSON array of strings; nil is null, as
// encoding/json writes a nil slice.
func AppendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}

// SortedKeys returns m's keys in sorted order, using buf's storage when it
// is large enough (callers pass a stack array to avoid an allocation).
func SortedKeys[V any](buf []string, m map[string]V) []string {
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// AppendValue appends v as encoding/json's Marshal would. Strings, bools,
// nil, integers, map[string]any, map[string]string, []any and []string
// (nested in any way) take the fast path; any other value, including
// floats and json.Number, is encoded by encoding/json. The error is
// encoding/json's; b is returned unchanged with it.
func AppendValue(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		return AppendString(b, t), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case nil:
		return append(b, "null"...), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(t), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(t), 10), nil
	case uint64:
		return strconv.AppendUint(b, t, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(t), 10), nil
	case map[string]any:
		return AppendMap(b, t)
	case map[string]string:
		return appendStringMap(b, t), nil
	case []string:
		return AppendStrings(b, t), nil
	case []any:
		return appendList(b, t)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}

// AppendMap appends m as a JSON object with sorted keys; nil is null.
func AppendMap(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var buf [16]string
	orig := b
	b = append(b, '{')
	for i, k := range SortedKeys(buf[:], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendString(b, k), ':')
		var err error
		if b, err = AppendValue(b, m[k]); err != nil {
			return orig, err
		}
	}
	return append(b, '}'), nil
}

func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var buf [16]string
	b = append(b, '{')
	for i, k := range SortedKeys(buf[:], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(append(AppendString(b, k), ':'), m[k])
	}
	return append(b, '}')
}

func appendList(b []byte, l []any) ([]byte, error) {
	if l == nil {
		return append(b, "null"...), nil
	}
	orig := b
	b = append(b, '[')
	for i, x := range l {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = AppendValue(b, x); err != nil {
			return orig, err
		}
	}
	return append(b, ']'), nil
}
