package policy_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/policy"
)

func mustParse(t testing.TB, name, text string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(name, text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", name, err)
	}
	return p
}

func TestParseFullSyntax(t *testing.T) {
	const text = `
name = "ignored"
path "secret/data/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list", "sudo"]
  allowed_parameters  = { "foo" = [] "bar" = ["a", "b*"] "*" = [] }
  denied_parameters   = { "Baz" = [] }
  required_parameters = ["foo"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = 90
}
path "/secret/+/team-*" { capabilities = ["read"] }
path "sys/events/subscribe/*" {
  capabilities          = ["read", "subscribe"]
  subscribe_event_types = ["kv*"]
  comment               = "events"
}
`
	p := mustParse(t, "ops", text)
	if p.Name != "ops" || p.Raw != text || p.Templated {
		t.Fatalf("policy header = %q %v", p.Name, p.Templated)
	}
	want := []*policy.PathRule{{
		Path: "secret/data/*", Prefix: true,
		Capabilities: policy.CreateCapability | policy.ReadCapability | policy.UpdateCapability | policy.PatchCapability |
			policy.DeleteCapability | policy.ListCapability | policy.SudoCapability,
		AllowedParameters:  map[string][]any{"foo": {}, "bar": {"a", "b*"}, "*": {}},
		DeniedParameters:   map[string][]any{"baz": {}},
		RequiredParameters: []string{"foo"},
		MinWrappingTTL:     time.Minute, MaxWrappingTTL: 90 * time.Second, Line: 3,
	}, {
		Path: "secret/+/team-*", Prefix: true, SegmentWildcards: true, Capabilities: policy.ReadCapability, Line: 11,
	}, {
		Path: "sys/events/subscribe/*", Prefix: true, Capabilities: policy.ReadCapability | policy.SubscribeCapability,
		SubscribeEventTypes: []string{"kv*"}, Line: 12,
	}}
	if len(p.Paths) != len(want) {
		t.Fatalf("got %d rules, want %d", len(p.Paths), len(want))
	}
	for i, w := range want {
		if !reflect.DeepEqual(p.Paths[i], w) {
			t.Errorf("rule %d = %+v\nwant %+v", i, *p.Paths[i], *w)
		}
	}
}

func TestParseLegacyPolicy(t *testing.T) {
	write := policy.CreateCapability | policy.ReadCapability | policy.UpdateCapability | policy.DeleteCapability | policy.ListCapability
	tests := []struct {
		text string
		want policy.Capability
	}{
		{`path "a" { policy = "read" }`, policy.ReadCapability | policy.ListCapability},
		{`path "a" { policy = "write" }`, write},
		{`path "a" { policy = "sudo" }`, write | policy.SudoCapability},
		{`path "a" { policy = "deny" }`, policy.DenyCapability},
		{`path "a" { policy = "read" capabilities = ["patch"] }`, policy.ReadCapability | policy.ListCapability | policy.PatchCapability},
		{`path "a" { policy = "read" capabilities = ["deny"] }`, policy.DenyCapability},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			p := mustParse(t, "legacy", tt.text)
			if got := p.Paths[0].Capabilities; got != tt.want {
				t.Errorf("capabilities = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseDenyClearsBlock(t *testing.T) {
	p := mustParse(t, "d", `path "a/*" {
  capabilities = ["deny", "read"]
  allowed_parameters = { "x" = [] }
  required_parameters = ["x"]
  max_wrapping_ttl = "1h"
}`)
	want := &policy.PathRule{Path: "a/*", Prefix: true, Capabilities: policy.DenyCapability, Line: 1}
	if !reflect.DeepEqual(p.Paths[0], want) {
		t.Errorf("rule = %+v, want %+v", *p.Paths[0], *want)
	}
}

func TestParseJSON(t *testing.T) {
	p := mustParse(t, "j", `{
  "path": {
    "secret/*": {"capabilities": ["read", "list"], "allowed_parameters": {"ttl": ["1h", 30]}},
    "sys/mounts": {"policy": "write"}
  }
}`)
	if len(p.Paths) != 2 {
		t.Fatalf("got %d rules", len(p.Paths))
	}
	byPath := map[string]*policy.PathRule{}
	for _, r := range p.Paths {
		byPath[r.Path] = r
	}
	if r := byPath["secret/*"]; r == nil || r.Capabilities != policy.ReadCapability|policy.ListCapability ||
		!reflect.DeepEqual(r.AllowedParameters, map[string][]any{"ttl": {"1h", int64(30)}}) {
		t.Errorf("secret/* = %+v", r)
	}
	if r := byPath["sys/mounts"]; r == nil || !r.Capabilities.Has(policy.UpdateCapability) {
		t.Errorf("sys/mounts = %+v", r)
	}
}

func TestParseValues(t *testing.T) {
	p := mustParse(t, "v", `path "a" {
  capabilities = ["update"]
  allowed_parameters = {
    "s" = ["x", "y*"]
    "n" = [1, -2, 0x10, 1.5]
    "b" = [true, false]
    "l" = [["a", "b"]]
    "m" = [{ k = "v" }]
    "h" = [<<EOT
multi
EOT
    ]
  }
}`)
	want := map[string][]any{
		"s": {"x", "y*"},
		"n": {int64(1), int64(-2), int64(16), 1.5},
		"b": {true, false},
		"l": {[]any{"a", "b"}},
		"m": {map[string]any{"k": "v"}},
		"h": {"multi\n"},
	}
	if got := p.Paths[0].AllowedParameters; !reflect.DeepEqual(got, want) {
		t.Errorf("allowed = %#v\nwant %#v", got, want)
	}
}

func TestParseDurations(t *testing.T) {
	tests := []struct {
		val  string
		want time.Duration
	}{
		{`"1m"`, time.Minute},
		{`"90s"`, 90 * time.Second},
		{`90`, 90 * time.Second},
		{`"90"`, 90 * time.Second},
		{`"2d"`, 48 * time.Hour},
		{`"1h30m"`, 90 * time.Minute},
		{`""`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.val, func(t *testing.T) {
			p := mustParse(t, "d", `path "a" { capabilities = ["read"] max_wrapping_ttl = `+tt.val+` }`)
			if got := p.Paths[0].MaxWrappingTTL; got != tt.want {
				t.Errorf("max_wrapping_ttl = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown capability", "path \"a\" {\n  capabilities = [\n    \"reed\",\n  ]\n}",
			`policy "x": line 3: unknown capability "reed"`},
		{"unknown top-level key", "\n\npaths \"a\" { capabilities = [] }", `policy "x": line 3: unknown key "paths"`},
		{"unknown path key", "path \"a\" {\n  capabilites = [\"read\"]\n}", `policy "x": line 2: path "a": unknown key "capabilites"`},
		{"enterprise key", "path \"a\" {\n  mfa_methods = [\"m\"]\n}", `line 2: path "a": "mfa_methods" is a Vault Enterprise feature`},
		{"capabilities as string", `path "a" { capabilities = "read" }`, `line 1: expected a list of capabilities`},
		{"capability not a string", `path "a" { capabilities = [["read"]] }`, `expected a string, got a list`},
		{"legacy unknown", `path "a" { policy = "admin" }`, `unknown legacy policy "admin"`},
		{"params not object", `path "a" { allowed_parameters = ["x"] }`, `expected an object`},
		{"param value not list", `path "a" { allowed_parameters = { "x" = "y" } }`, `parameter "x": expected a list of values`},
		{"duplicate param", `path "a" { denied_parameters = { "X" = [] x = [] } }`, `parameter "x" is listed more than once`},
		{"duplicate field", "path \"a\" {\n capabilities = []\n capabilities = []\n}", `line 3: path "a": "capabilities" is set more than once`},
		{"bad duration", `path "a" { min_wrapping_ttl = "soon" }`, `malformed duration "soon"`},
		{"negative duration", `path "a" { min_wrapping_ttl = "-5s" }`, `is negative`},
		{"duration list", `path "a" { min_wrapping_ttl = ["5s"] }`, `expected a duration, got a list`},
		{"min above max", `path "a" { min_wrapping_ttl = "2m" max_wrapping_ttl = "1m" }`, `max_wrapping_ttl cannot be less than min_wrapping_ttl`},
		{"plus star", `path "a/+*" { capabilities = [] }`, `"+*" is forbidden`},
		{"star in middle", `path "a/*/b" { capabilities = [] }`, `"*" is only allowed at the end`},
		{"unbalanced template", `path "a/{{identity.entity.id" { capabilities = [] }`, `unbalanced templating`},
		{"path without pattern", `path { capabilities = [] }`, `exactly one quoted pattern`},
		{"path with two patterns", `path "a" "b" { capabilities = [] }`, `exactly one quoted pattern`},
		{"path assigned", `path = { "a" = { capabilities = [] } }`, `exactly one quoted pattern`},
		{"path not a block", `path "a" = "read"`, `line 1: syntax error`},
		{"path not a block json", `{"path": {"a": "read"}}`, `exactly one quoted pattern`},
		{"duplicate name", "name = \"a\"\nname = \"b\"", `line 2: "name" is set more than once`},
		{"duplicate nested key", `path "a" { allowed_parameters = { x = [{ k = 1, k = 2 }] } }`, `key "k" is set more than once`},
		{"syntax error", "path \"a\" {\n  capabilities = [\"read\"\n", `syntax error`},
		{"too large", "#" + strings.Repeat("x", policy.MaxPolicySize), `larger than`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.Parse("x", tt.text)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Errorf("error %v does not wrap ErrInvalidPolicy", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseDurationFunc(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"15", 15 * time.Second, false},
		{"1d", 24 * time.Hour, false},
		{"1.5h", 90 * time.Minute, false},
		{"xd", 0, true},
		{"-1", 0, true},
		{"99999999999999999d", 0, true},
		{"abc", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := policy.ParseDuration(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
