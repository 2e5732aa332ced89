package kv

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/cofferdev/coffer/internal/logical"
)

// Vault's limits on custom_metadata.
const (
	maxCustomMetadataKeys     = 64
	maxCustomMetadataKeyLen   = 128
	maxCustomMetadataValueLen = 512
	customMetadataErrPrefix   = "custom_metadata validation failed"
)

// mergeCustomMetadata computes a key's new custom metadata. A write replaces
// old with raw (null meaning empty). A patch merges raw into old: a null
// value removes that key, and raw itself being null removes all. The result
// is validated against Vault's limits.
func mergeCustomMetadata(old map[string]string, raw map[string]any, patch bool) (map[string]string, error) {
	if patch && raw == nil {
		return nil, nil
	}
	out := map[string]string{}
	if patch {
		maps.Copy(out, old)
	}
	for k, v := range raw {
		if v == nil && patch {
			delete(out, k)
			continue
		}
		s, ok := customMetadataString(v)
		if !ok {
			return nil, logical.InvalidRequest("%s: value for key %q must be a string", customMetadataErrPrefix, k)
		}
		out[k] = s
	}
	if err := validateCustomMetadata(out); err != nil {
		return nil, err
	}
	return out, nil
}

// customMetadataString converts a scalar JSON value to its string form, as
// Vault's weak decoding does.
func customMetadataString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// validateCustomMetadata checks Vault's limits: at most 64 keys, keys of 1 to
// 128 bytes, values of 1 to 512 bytes, all printable. Every violation is
// reported; values are never quoted.
func validateCustomMetadata(m map[string]string) error {
	if len(m) > maxCustomMetadataKeys {
		return logical.InvalidRequest("%s: payload must contain at most %d keys, provided %d",
			customMetadataErrPrefix, maxCustomMetadataKeys, len(m))
	}
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if n := len(k); n == 0 || n > maxCustomMetadataKeyLen {
			errs = append(errs, customMetadataErrPrefix+": length of key "+strconv.Quote(k)+" is "+
				strconv.Itoa(n)+" but must be 0 < len(key) <= "+strconv.Itoa(maxCustomMetadataKeyLen))
		}
		if n := len(v); n == 0 || n > maxCustomMetadataValueLen {
			errs = append(errs, customMetadataErrPrefix+": length of value for key "+strconv.Quote(k)+" is "+
				strconv.Itoa(n)+" but must be 0 < len(value) <= "+strconv.Itoa(maxCustomMetadataValueLen))
		}
		if !printable(k) {
			errs = append(errs, customMetadataErrPrefix+": key "+strconv.Quote(k)+" contains unprintable characters")
		}
		if !printable(v) {
			errs = append(errs, customMetadataErrPrefix+": value for key "+strconv.Quote(k)+" contains unprintable characters")
		}
	}
	if len(errs) > 0 {
		return logical.InvalidRequest("%s", strings.Join(errs, "; "))
	}
	return nil
}

func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}
