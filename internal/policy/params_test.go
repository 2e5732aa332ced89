package policy_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParameters(t *testing.T) {
	tests := []struct {
		name   string
		block  string
		op     string
		data   map[string]any
		want   bool
		reason string
	}{
		{"denied star denies any field", `denied_parameters = { "*" = [] }`, "update", map[string]any{"a": 1}, false, `parameter "a" is denied`},
		{"denied star allows empty body", `denied_parameters = { "*" = [] }`, "update", nil, true, ""},
		{"denied key any value", `denied_parameters = { "foo" = [] }`, "update", map[string]any{"foo": "x"}, false, `parameter "foo" is denied`},
		{"denied key other field", `denied_parameters = { "foo" = [] }`, "update", map[string]any{"bar": "x"}, true, ""},
		{"denied key is case-insensitive", `denied_parameters = { "foo" = [] }`, "update", map[string]any{"FOO": "x"}, false, `parameter "FOO" is denied`},
		{"denied value glob suffix", `denied_parameters = { "foo" = ["bad*"] }`, "update", map[string]any{"foo": "badly"}, false, "is denied"},
		{"denied value glob prefix", `denied_parameters = { "foo" = ["*bad"] }`, "update", map[string]any{"foo": "notbad"}, false, "is denied"},
		{"denied value glob both", `denied_parameters = { "foo" = ["*bad*"] }`, "update", map[string]any{"foo": "a-bad-b"}, false, "is denied"},
		{"denied value not matching", `denied_parameters = { "foo" = ["bad*"] }`, "update", map[string]any{"foo": "good"}, true, ""},
		{"denied element of list", `denied_parameters = { "foo" = ["bad"] }`, "update", map[string]any{"foo": []any{"ok", "bad"}}, false, "is denied"},
		{"denied element of comma string", `denied_parameters = { "foo" = ["bad"] }`, "update", map[string]any{"foo": "ok, bad"}, false, "is denied"},
		{"denied number", `denied_parameters = { "n" = [5] }`, "update", map[string]any{"n": json.Number("5")}, false, "is denied"},
		{"denied bool", `denied_parameters = { "b" = [true] }`, "update", map[string]any{"b": true}, false, "is denied"},
		{"denied bool other", `denied_parameters = { "b" = [true] }`, "update", map[string]any{"b": false}, true, ""},
		{"allowed keys only", `allowed_parameters = { "foo" = [] }`, "update", map[string]any{"foo": 1, "bar": 2}, false, `parameter "bar" is not allowed`},
		{"allowed key any value", `allowed_parameters = { "foo" = [] }`, "update", map[string]any{"foo": "anything"}, true, ""},
		{"allowed values", `allowed_parameters = { "foo" = ["a", "b*"] }`, "update", map[string]any{"foo": "bee"}, true, ""},
		{"allowed value rejected", `allowed_parameters = { "foo" = ["a", "b*"] }`, "update", map[string]any{"foo": "c"}, false, `value of parameter "foo" is not allowed`},
		{"allowed list all elements", `allowed_parameters = { "foo" = ["a", "b*"] }`, "update", map[string]any{"foo": []any{"a", "b1"}}, true, ""},
		{"allowed list one bad element", `allowed_parameters = { "foo" = ["a", "b*"] }`, "update", map[string]any{"foo": []any{"a", "c"}}, false, "not allowed"},
		{"allowed comma string", `allowed_parameters = { "foo" = ["a", "b*"] }`, "update", map[string]any{"foo": "a,b2"}, true, ""},
		{"allowed empty string must be listed", `allowed_parameters = { "foo" = ["a"] }`, "update", map[string]any{"foo": ""}, false, "not allowed"},
		{"allowed star alone", `allowed_parameters = { "*" = [] }`, "update", map[string]any{"x": 1, "y": 2}, true, ""},
		{"allowed star with restricted key", `allowed_parameters = { "*" = [] "foo" = ["a"] }`, "update", map[string]any{"x": 1, "foo": "a"}, true, ""},
		{"allowed star with restricted key rejected", `allowed_parameters = { "*" = [] "foo" = ["a"] }`, "update", map[string]any{"x": 1, "foo": "b"}, false, `value of parameter "foo"`},
		{"allowed numbers by value", `allowed_parameters = { "n" = [1, 2.5] }`, "update", map[string]any{"n": 2.5, "m": 1}, false, `parameter "m" is not allowed`},
		{"allowed json number", `allowed_parameters = { "n" = [1] }`, "create", map[string]any{"n": json.Number("1")}, true, ""},
		{"allowed float64", `allowed_parameters = { "n" = [1] }`, "patch", map[string]any{"n": float64(1)}, true, ""},
		{"allowed number vs string", `allowed_parameters = { "n" = [1] }`, "update", map[string]any{"n": "x"}, false, "not allowed"},
		{"allowed null", `allowed_parameters = { "n" = ["a"] }`, "update", map[string]any{"n": nil}, false, "not allowed"},
		{"denied checked before allowed", `allowed_parameters = { "foo" = [] } denied_parameters = { "foo" = [] }`, "update", map[string]any{"foo": 1}, false, "is denied"},
		{"first bad key reported", `allowed_parameters = { "z" = [] }`, "update", map[string]any{"c": 1, "a": 2, "b": 3}, false, `parameter "a" is not allowed`},
		{"required present", `required_parameters = ["foo"]`, "update", map[string]any{"foo": 1}, true, ""},
		{"required missing", `required_parameters = ["foo", "bar"]`, "update", map[string]any{"foo": 1}, false, `missing required parameter "bar"`},
		{"required on empty body", `required_parameters = ["foo"]`, "create", nil, false, `missing required parameter "foo"`},
		{"required applies to read as in vault", `required_parameters = ["foo"]`, "read", nil, false, "missing required"},
		{"params not checked for delete", `denied_parameters = { "*" = [] } required_parameters = ["x"]`, "delete", map[string]any{"a": 1}, true, ""},
		{"params not checked for list", `denied_parameters = { "*" = [] }`, "list", map[string]any{"a": 1}, true, ""},
		{"globbed allowed in maps and lists", `allowed_parameters = { "m" = [{ k = "v" }] "l" = [["a", 1]] }`, "update",
			map[string]any{"m": map[string]any{"k": "v"}, "l": []any{"a", int64(1)}}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := `path "p" { capabilities = ["create", "read", "update", "patch", "delete", "list"] ` + tt.block + ` }`
			res := mustACL(t, "params", text).Check(tt.op, "p", tt.data, 0)
			if res.Allowed != tt.want {
				t.Errorf("Allowed = %v, want %v (%+v)", res.Allowed, tt.want, res)
			}
			if !strings.Contains(res.Reason, tt.reason) || (tt.want && res.Reason != "") {
				t.Errorf("Reason = %q, want it to contain %q", res.Reason, tt.reason)
			}
		})
	}
}

func TestWrappingTTL(t *testing.T) {
	tests := []struct {
		name   string
		block  string
		ttl    time.Duration
		want   bool
		reason string
	}{
		{"no bounds no wrap", ``, 0, true, ""},
		{"no bounds wrapped", ``, time.Hour, true, ""},
		{"max requires wrapping", `max_wrapping_ttl = "90s"`, 0, false, "response wrapping is required"},
		{"max ok", `max_wrapping_ttl = "90s"`, time.Minute, true, ""},
		{"max equal ok", `max_wrapping_ttl = "90s"`, 90 * time.Second, true, ""},
		{"max exceeded", `max_wrapping_ttl = "90s"`, 2 * time.Minute, false, "above the maximum of 1m30s"},
		{"min requires wrapping", `min_wrapping_ttl = "1m"`, 0, false, "response wrapping is required"},
		{"min ok", `min_wrapping_ttl = "1m"`, 2 * time.Minute, true, ""},
		{"min not reached", `min_wrapping_ttl = "1m"`, 30 * time.Second, false, "below the minimum of 1m0s"},
		{"both ok", `min_wrapping_ttl = "1m" max_wrapping_ttl = "5m"`, 3 * time.Minute, true, ""},
		{"both too high", `min_wrapping_ttl = "1m" max_wrapping_ttl = "5m"`, 6 * time.Minute, false, "above the maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := `path "p" { capabilities = ["read"] ` + tt.block + ` }`
			res := mustACL(t, "wrap", text).Check("read", "p", nil, tt.ttl)
			if res.Allowed != tt.want || !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("got %+v, want allowed=%v reason containing %q", res, tt.want, tt.reason)
			}
		})
	}
}
