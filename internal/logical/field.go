package logical

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FieldType is the type of a request field. Values arriving as strings (query
// parameters, CLI key=value pairs) are converted, as Vault does.
type FieldType int

// Field types.
const (
	TypeString FieldType = iota + 1
	TypeInt
	TypeBool
	// TypeDuration accepts seconds as a number or a Go/Vault duration string
	// ("90s", "1h", "3d"); the value is a time.Duration.
	TypeDuration
	// TypeMap is a JSON object.
	TypeMap
	// TypeStringSlice accepts a JSON array of strings or a comma-separated string.
	TypeStringSlice
	// TypeKVPairs is an object whose values are strings.
	TypeKVPairs
	// TypeRaw is passed through untouched.
	TypeRaw
)

// Field declares one request field.
type Field struct {
	Type        FieldType
	Default     any
	Description string
	// Required makes a missing field a 400.
	Required bool
}

// FieldData gives typed access to a request's fields, validated against a
// schema. Getters panic on undeclared names: that is a programming error.
type FieldData struct {
	Raw    map[string]any
	Schema map[string]*Field
}

// Validate converts every present field once so type errors surface as 400s
// before a handler runs, and checks required fields.
func (d *FieldData) Validate() error { return d.validate(true) }

// validate checks types, and required fields when required is set (only
// writes carry a body, so reads and deletes skip that check).
func (d *FieldData) validate(required bool) error {
	for name, f := range d.Schema {
		v, ok := d.Raw[name]
		if !ok || v == nil {
			if f.Required && required {
				return InvalidRequest("missing required field %q", name)
			}
			continue
		}
		if _, err := convert(f.Type, v); err != nil {
			return InvalidRequest("field %q: %v", name, err)
		}
	}
	return nil
}

// Unknown lists raw keys with no schema entry, sorted.
func (d *FieldData) Unknown() []string {
	var out []string
	for k := range d.Raw {
		if _, ok := d.Schema[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// GetOk returns the converted field and whether the client sent it.
func (d *FieldData) GetOk(name string) (any, bool) {
	f, ok := d.Schema[name]
	if !ok {
		panic(fmt.Sprintf("logical: field %q not in schema", name))
	}
	v, ok := d.Raw[name]
	if !ok || v == nil {
		return defaultValue(f), false
	}
	out, err := convert(f.Type, v)
	if err != nil {
		return defaultValue(f), false
	}
	return out, true
}

// Get returns the converted field or its default.
func (d *FieldData) Get(name string) any {
	v, _ := d.GetOk(name)
	return v
}

// String returns a TypeString field.
func (d *FieldData) String(name string) string { s, _ := d.Get(name).(string); return s }

// Int returns a TypeInt field.
func (d *FieldData) Int(name string) int { i, _ := d.Get(name).(int); return i }

// Bool returns a TypeBool field.
func (d *FieldData) Bool(name string) bool { b, _ := d.Get(name).(bool); return b }

// Duration returns a TypeDuration field.
func (d *FieldData) Duration(name string) time.Duration {
	v, _ := d.Get(name).(time.Duration)
	return v
}

// Strings returns a TypeStringSlice field.
func (d *FieldData) Strings(name string) []string { s, _ := d.Get(name).([]string); return s }

// Map returns a TypeMap field.
func (d *FieldData) Map(name string) map[string]any { m, _ := d.Get(name).(map[string]any); return m }

// KVPairs returns a TypeKVPairs field.
func (d *FieldData) KVPairs(name string) map[string]string {
	m, _ := d.Get(name).(map[string]string)
	return m
}

func defaultValue(f *Field) any {
	if f.Default != nil {
		return f.Default
	}
	switch f.Type {
	case TypeString:
		return ""
	case TypeInt:
		return 0
	case TypeBool:
		return false
	case TypeDuration:
		return time.Duration(0)
	case TypeStringSlice:
		return []string(nil)
	}
	return nil
}

func convert(t FieldType, v any) (any, error) {
	switch t {
	case TypeString:
		return toString(v)
	case TypeInt:
		return ToInt(v)
	case TypeBool:
		return toBool(v)
	case TypeDuration:
		return ParseDuration(v)
	case TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expected an object")
		}
		return m, nil
	case TypeStringSlice:
		return toStringSlice(v)
	case TypeKVPairs:
		return toKVPairs(v)
	case TypeRaw:
		return v, nil
	}
	return nil, fmt.Errorf("unknown field type %d", t)
}

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("expected a string")
}

// ToInt converts JSON numbers and numeric strings to int.
func ToInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32*float64(1<<31) {
			return 0, fmt.Errorf("expected an integer")
		}
		return int(x), nil
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("expected an integer")
		}
		return int(i), nil
	case string:
		if x == "" {
			return 0, nil
		}
		i, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("expected an integer")
		}
		return int(i), nil
	}
	return 0, fmt.Errorf("expected an integer")
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if x == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("expected a boolean")
		}
		return b, nil
	case json.Number, float64, int:
		i, err := ToInt(x)
		if err != nil {
			return false, fmt.Errorf("expected a boolean")
		}
		return i != 0, nil
	}
	return false, fmt.Errorf("expected a boolean")
}

// ParseDuration accepts seconds (number or numeric string) or a duration
// string with units s, m, h and d ("1h30m", "7d").
func ParseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		return parseDurationString(x)
	}
	i, err := ToInt(v)
	if err != nil {
		return 0, fmt.Errorf("expected a duration")
	}
	if i < 0 {
		return 0, fmt.Errorf("duration must not be negative")
	}
	return time.Duration(i) * time.Second, nil
}

func parseDurationString(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 64)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}

func toStringSlice(v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return x, nil
	case string:
		if x == "" {
			return []string{}, nil
		}
		parts := strings.Split(x, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, err := toString(e)
			if err != nil {
				return nil, fmt.Errorf("expected a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list of strings")
}

func toKVPairs(v any) (map[string]string, error) {
	switch x := v.(type) {
	case map[string]string:
		return x, nil
	case map[string]any:
		out := make(map[string]string, len(x))
		for k, e := range x {
			s, err := toString(e)
			if err != nil {
				return nil, fmt.Errorf("value of %q must be a string", k)
			}
			out[k] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected an object of strings")
}
