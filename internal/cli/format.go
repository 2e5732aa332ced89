package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// secretRows lays out an envelope the way Vault's table format does: lease
// (or refresh interval), token, wrapping info, then sorted data keys.
func secretRows(s *apiclient.Secret) [][]string {
	var rows [][]string
	add := func(k string, v any) { rows = append(rows, []string{k, formatValue(v)}) }
	if s.LeaseDuration > 0 {
		if s.LeaseID != "" {
			add("lease_id", s.LeaseID)
			add("lease_duration", humanSeconds(s.LeaseDuration))
			add("lease_renewable", s.Renewable)
		} else {
			add("refresh_interval", humanSeconds(s.LeaseDuration))
		}
	}
	if au := s.Auth; au != nil {
		add("token", au.ClientToken)
		add("token_accessor", au.Accessor)
		if au.LeaseDuration == 0 {
			add("token_duration", "∞")
		} else {
			add("token_duration", humanSeconds(au.LeaseDuration))
		}
		add("token_renewable", au.Renewable)
		add("token_policies", quotedList(au.TokenPolicies))
		add("identity_policies", quotedList(au.IdentityPolicies))
		add("policies", quotedList(au.Policies))
		metaKeys := make([]string, 0, len(au.Metadata))
		for k := range au.Metadata {
			metaKeys = append(metaKeys, k)
		}
		sort.Strings(metaKeys)
		for _, k := range metaKeys {
			add("token_meta_"+k, au.Metadata[k])
		}
	}
	if wi := s.WrapInfo; wi != nil {
		add("wrapping_token:", wi.Token)
		add("wrapping_accessor:", wi.Accessor)
		add("wrapping_token_ttl:", humanSeconds(wi.TTL))
		add("wrapping_token_creation_time:", wi.CreationTime.String())
		add("wrapping_token_creation_path:", wi.CreationPath)
		if wi.WrappedAccessor != "" {
			add("wrapped_accessor:", wi.WrappedAccessor)
		}
	}
	return append(rows, mapRows(s.Data)...)
}

// mapRows lists a map's entries sorted by key, durations made readable.
func mapRows(m map[string]any) [][]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if looksLikeDuration(k) {
			v = humanDurationValue(v)
		}
		rows = append(rows, []string{k, formatValue(v)})
	}
	return rows
}

// secretField picks one field of an envelope as Vault's -field does: token
// fields from auth, wrapping fields from wrap_info, lease fields, then data.
func secretField(s *apiclient.Secret, field string) any {
	if au := s.Auth; au != nil {
		switch field {
		case "token":
			return au.ClientToken
		case "token_accessor":
			return au.Accessor
		case "token_duration":
			return au.LeaseDuration
		case "token_renewable":
			return au.Renewable
		case "token_policies":
			return au.TokenPolicies
		case "identity_policies":
			return au.IdentityPolicies
		case "policies":
			return au.Policies
		}
	}
	if wi := s.WrapInfo; wi != nil {
		switch field {
		case "wrapping_token":
			return wi.Token
		case "wrapping_accessor":
			return wi.Accessor
		case "wrapping_token_ttl":
			return wi.TTL
		case "wrapping_token_creation_time":
			return wi.CreationTime.String()
		case "wrapping_token_creation_path":
			return wi.CreationPath
		case "wrapped_accessor":
			return wi.WrappedAccessor
		}
	}
	switch field {
	case "refresh_interval", "lease_duration":
		return s.LeaseDuration
	case "lease_id":
		return s.LeaseID
	case "lease_renewable":
		return s.Renewable
	case "request_id":
		return s.RequestID
	case "warnings":
		return s.Warnings
	}
	return s.Data[field]
}

// formatValue renders a value for a table cell or a raw field, as Go's %v
// does (Vault's behaviour), with json.Number printed as its digits.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("%v", v)
}

// quotedList prints a policy list as Vault does: ["a" "b"].
func quotedList(xs []string) string {
	if xs == nil {
		xs = []string{}
	}
	return fmt.Sprintf("%q", xs)
}

// looksLikeDuration reports whether a key holds seconds that Vault prints
// as a duration.
func looksLikeDuration(k string) bool {
	return k == "period" || strings.HasSuffix(k, "_period") ||
		k == "ttl" || strings.HasSuffix(k, "_ttl") ||
		k == "duration" || strings.HasSuffix(k, "_duration") ||
		k == "lease_max" || k == "ttl_max"
}

// humanDurationValue turns a number of seconds into a duration string and
// leaves anything else unchanged.
func humanDurationValue(v any) any {
	var secs int64
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return v
		}
		secs = n
	case int:
		secs = int64(x)
	case int64:
		secs = x
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return v
		}
		secs = n
	default:
		return v
	}
	return humanDuration(time.Duration(secs) * time.Second)
}

func humanSeconds(secs int) string { return humanDuration(time.Duration(secs) * time.Second) }

// humanDuration prints d without zero minute or second parts: 768h, 1h30m.
func humanDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if i := strings.Index(s, "h0m"); i > 0 {
		s = s[:i+1] + s[i+3:]
	}
	return s
}
