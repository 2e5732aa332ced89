package policy

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/hcl/printer"
)

// Format returns the canonical layout of a policy, for `coffer policy fmt`.
// HCL input goes through the HCL printer, which keeps comments; the result
// is accepted only if printing it again changes nothing and it parses to the
// same rules. JSON input (or text the printer mangles) is rewritten from the
// parsed rules instead, without comments. Format is stable:
// Format(Format(x)) == Format(x). Invalid policies give a *ParseError.
func Format(text string) (string, error) {
	p, err := Parse("", text)
	if err != nil {
		return "", err
	}
	if out, ok := printed(text, p); ok {
		return out, nil
	}
	gen := Generate(p)
	if out, ok := printed(gen, p); ok {
		return out, nil
	}
	q, err := Parse("", gen)
	if err != nil || !SameRules(p, q) {
		return "", &ParseError{Msg: "policy cannot be formatted"}
	}
	return gen, nil
}

// printed runs the HCL printer over text and reports whether the output is a
// fixed point of the printer that parses to the same rules as p.
func printed(text string, p *Policy) (string, bool) {
	out, err := printHCL(text)
	if err != nil {
		return "", false
	}
	if again, err := printHCL(out); err != nil || again != out {
		return "", false
	}
	q, err := Parse("", out)
	if err != nil || !SameRules(p, q) {
		return "", false
	}
	return out, true
}

// printHCL formats HCL text, turning a printer panic into an error.
func printHCL(text string) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("printer: %v", r)
		}
	}()
	b, err := printer.Format([]byte(text))
	return string(b), err
}

// Generate writes p's rules as HCL in a fixed layout: one block per rule in
// order, keys in a fixed order, parameter names sorted. Comments and the
// legacy `policy = "..."` form are not kept; the text parses to the same
// rules.
func Generate(p *Policy) string {
	var b strings.Builder
	for i, r := range p.Paths {
		if i > 0 {
			b.WriteString("\n")
		}
		path := r.Path
		if strings.HasPrefix(path, "/") {
			path = "/" + path // Parse strips one leading "/"
		}
		fmt.Fprintf(&b, "path %s {\n", hclQuote(path))
		fmt.Fprintf(&b, "  capabilities = %s\n", stringList(r.Capabilities.Strings()))
		writeParams(&b, "allowed_parameters", r.AllowedParameters)
		writeParams(&b, "denied_parameters", r.DeniedParameters)
		if r.RequiredParameters != nil {
			fmt.Fprintf(&b, "  required_parameters = %s\n", stringList(r.RequiredParameters))
		}
		if r.MinWrappingTTL != 0 {
			fmt.Fprintf(&b, "  min_wrapping_ttl = %q\n", r.MinWrappingTTL.String())
		}
		if r.MaxWrappingTTL != 0 {
			fmt.Fprintf(&b, "  max_wrapping_ttl = %q\n", r.MaxWrappingTTL.String())
		}
		if r.SubscribeEventTypes != nil {
			fmt.Fprintf(&b, "  subscribe_event_types = %s\n", stringList(r.SubscribeEventTypes))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// writeParams writes a parameter map attribute, keys sorted.
func writeParams(b *strings.Builder, name string, m map[string][]any) {
	if m == nil {
		return
	}
	if len(m) == 0 {
		fmt.Fprintf(b, "  %s = {}\n", name)
		return
	}
	fmt.Fprintf(b, "  %s = {\n", name)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(b, "    %s = %s\n", hclQuote(k), hclValue(m[k]))
	}
	b.WriteString("  }\n")
}

// stringList writes ["a", "b"].
func stringList(ss []string) string {
	vals := make([]any, len(ss))
	for i, s := range ss {
		vals[i] = s
	}
	return hclValue(vals)
}

// hclValue writes a parameter value as an HCL literal.
func hclValue(v any) string {
	switch v := v.(type) {
	case string:
		return hclQuote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, el := range v {
			parts[i] = hclValue(el)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, hclQuote(k)+" = "+hclValue(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return `""`
}

// hclQuote quotes s for HCL. Every "$" is escaped so "${" never starts an
// interpolation, whose content HCL would not unescape.
func hclQuote(s string) string {
	return strings.ReplaceAll(strconv.Quote(s), "$", `\u0024`)
}

// SameRules reports whether two policies hold the same rules in the same
// order, ignoring names, raw text, source lines and the Go types of numbers.
func SameRules(p, q *Policy) bool {
	return p.Templated == q.Templated && slices.EqualFunc(p.Paths, q.Paths, (*PathRule).Equal)
}

// Equal reports whether two rules are the same, ignoring Line.
func (r *PathRule) Equal(o *PathRule) bool {
	return r.Path == o.Path && r.Prefix == o.Prefix && r.SegmentWildcards == o.SegmentWildcards &&
		r.Templated == o.Templated && r.Capabilities == o.Capabilities &&
		r.MinWrappingTTL == o.MinWrappingTTL && r.MaxWrappingTTL == o.MaxWrappingTTL &&
		slices.Equal(r.RequiredParameters, o.RequiredParameters) &&
		slices.Equal(r.SubscribeEventTypes, o.SubscribeEventTypes) &&
		(r.AllowedParameters == nil) == (o.AllowedParameters == nil) &&
		(r.DeniedParameters == nil) == (o.DeniedParameters == nil) &&
		maps.EqualFunc(r.AllowedParameters, o.AllowedParameters, sameList) &&
		maps.EqualFunc(r.DeniedParameters, o.DeniedParameters, sameList)
}

// sameList compares value lists element by element.
func sameList(a, b []any) bool { return slices.EqualFunc(a, b, sameValue) }

// sameValue compares two parameter values exactly (no globbing), numbers by
// value.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		return ok && sameList(a, b)
	case map[string]any:
		b, ok := b.(map[string]any)
		return ok && maps.EqualFunc(a, b, sameValue)
	}
	if an, ok := number(a); ok {
		bn, ok := number(b)
		return ok && an == bn
	}
	return a == b
}
