package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/parser"
)

// Parse parses a policy in Vault's HCL (or JSON) syntax. name is used for
// Policy.Name and in error messages. Unknown keys, unknown capabilities and
// malformed values are *ParseError values naming the line.
func Parse(name, text string) (*Policy, error) {
	d := &decoder{policy: name}
	if len(text) > MaxPolicySize {
		return nil, d.errorf(nil, "policy is larger than %d bytes", MaxPolicySize)
	}
	file, err := parseHCL(text)
	if err != nil {
		return nil, d.syntaxError(err)
	}
	p := &Policy{Name: name, Raw: text}
	if err := d.decodeFile(file, p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseHCL runs the HCL parser, or the JSON one when the text starts with
// "{" as hcl.Parse decides. Duplicate keys are left to the decoder, which
// reports them with their line. The parsers panic on a few malformed tokens
// instead of returning an error, so a panic here is turned into an error:
// policy text is outside input and must never take the server down.
func parseHCL(text string) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("malformed input: %v", r)
		}
	}()
	if strings.HasPrefix(strings.TrimLeftFunc(text, unicode.IsSpace), "{") {
		return hcl.Parse(text)
	}
	return parser.ParseDontErrorOnDuplicateKeys([]byte(text))
}

// decoder turns an HCL syntax tree into a Policy.
type decoder struct {
	policy string
}

// errorf builds a *ParseError positioned at n (which may be nil).
func (d *decoder) errorf(n ast.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Pos().Line
	}
	return &ParseError{Policy: d.policy, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// syntaxError converts an HCL parser error, keeping its line.
func (d *decoder) syntaxError(err error) error {
	var pe *parser.PosError
	if errors.As(err, &pe) {
		return &ParseError{Policy: d.policy, Line: pe.Pos.Line, Msg: "syntax error: " + pe.Err.Error()}
	}
	return &ParseError{Policy: d.policy, Msg: "syntax error: " + err.Error()}
}

// decodeFile decodes the top level: `name = "..."` and `path` blocks.
func (d *decoder) decodeFile(file *ast.File, p *Policy) (err error) {
	// Token.Value and friends in the HCL module panic on a few malformed
	// tokens; report those as errors too.
	defer func() {
		if r := recover(); r != nil {
			err = d.errorf(nil, "malformed input: %v", r)
		}
	}()
	list, ok := file.Node.(*ast.ObjectList)
	if !ok {
		return d.errorf(file.Node, "policy does not contain a root object")
	}
	named := false
	for _, item := range list.Items {
		key, err := d.itemKey(item)
		if err != nil {
			return err
		}
		switch key {
		case "name":
			if len(item.Keys) != 1 {
				return d.errorf(item, "%q takes no labels", key)
			}
			if named {
				return d.errorf(item, "%q is set more than once", key)
			}
			named = true
			if _, err := d.stringValue(item.Val); err != nil {
				return err
			}
		case "path":
			rule, err := d.decodePath(item)
			if err != nil {
				return err
			}
			p.Templated = p.Templated || rule.Templated
			p.Paths = append(p.Paths, rule)
		default:
			return d.errorf(item, "unknown key %q", key)
		}
	}
	return nil
}

// decodePath decodes one `path "pattern" { ... }` block.
func (d *decoder) decodePath(item *ast.ObjectItem) (*PathRule, error) {
	if len(item.Keys) != 2 {
		return nil, d.errorf(item, `path blocks take exactly one quoted pattern: path "secret/*" { ... }`)
	}
	pattern, err := d.key(item.Keys[1])
	if err != nil {
		return nil, err
	}
	obj, ok := item.Val.(*ast.ObjectType)
	if !ok {
		return nil, d.errorf(item, "path %q: expected a block { ... }", pattern)
	}
	rule := &PathRule{Line: item.Pos().Line}
	if err := classifyPath(pattern, rule); err != nil {
		return nil, d.errorf(item, "path %q: %v", pattern, err)
	}
	seen := make(map[string]bool, len(obj.List.Items))
	var legacy string
	for _, field := range obj.List.Items {
		name, err := d.itemKey(field)
		if err != nil {
			return nil, err
		}
		if len(field.Keys) != 1 {
			return nil, d.errorf(field, "path %q: %q takes no labels", pattern, name)
		}
		if seen[name] {
			return nil, d.errorf(field, "path %q: %q is set more than once", pattern, name)
		}
		seen[name] = true
		if name == "policy" {
			if legacy, err = d.stringValue(field.Val); err != nil {
				return nil, err
			}
			continue
		}
		if err := d.decodeField(rule, pattern, name, field); err != nil {
			return nil, err
		}
	}
	if seen["policy"] {
		caps, ok := legacyCapabilities(legacy)
		if !ok {
			return nil, d.errorf(item, "path %q: unknown legacy policy %q (want deny, read, write or sudo)", pattern, legacy)
		}
		rule.Capabilities |= caps
	}
	return d.finishRule(rule, item, pattern)
}

// decodeField decodes one attribute of a path block into rule.
func (d *decoder) decodeField(rule *PathRule, pattern, name string, field *ast.ObjectItem) error {
	var err error
	switch name {
	case "comment":
		_, err = d.stringValue(field.Val)
	case "capabilities":
		rule.Capabilities, err = d.capabilities(field.Val)
	case "allowed_parameters":
		rule.AllowedParameters, err = d.parameters(field.Val)
	case "denied_parameters":
		rule.DeniedParameters, err = d.parameters(field.Val)
	case "required_parameters":
		rule.RequiredParameters, err = d.stringList(field.Val)
	case "subscribe_event_types":
		rule.SubscribeEventTypes, err = d.stringList(field.Val)
	case "min_wrapping_ttl":
		rule.MinWrappingTTL, err = d.duration(field.Val)
	case "max_wrapping_ttl":
		rule.MaxWrappingTTL, err = d.duration(field.Val)
	case "mfa_methods", "control_group":
		return d.errorf(field, "path %q: %q is a Vault Enterprise feature coffer does not support", pattern, name)
	default:
		return d.errorf(field, "path %q: unknown key %q", pattern, name)
	}
	return err
}

// finishRule applies the rules that span several fields.
func (d *decoder) finishRule(rule *PathRule, item *ast.ObjectItem, pattern string) (*PathRule, error) {
	if rule.MinWrappingTTL != 0 && rule.MaxWrappingTTL != 0 && rule.MaxWrappingTTL < rule.MinWrappingTTL {
		return nil, d.errorf(item, "path %q: max_wrapping_ttl cannot be less than min_wrapping_ttl", pattern)
	}
	if rule.Capabilities&DenyCapability != 0 {
		// Deny overrides everything in the block, as in Vault.
		*rule = PathRule{
			Path: rule.Path, Prefix: rule.Prefix, SegmentWildcards: rule.SegmentWildcards,
			Templated: rule.Templated, Capabilities: DenyCapability, Line: rule.Line,
		}
	}
	return rule, nil
}

// classifyPath validates pattern and fills rule's Path, Prefix,
// SegmentWildcards and Templated fields.
func classifyPath(pattern string, rule *PathRule) error {
	path := strings.TrimPrefix(pattern, "/")
	if strings.Contains(path, "+*") {
		return errors.New(`invalid use of wildcards ("+*" is forbidden)`)
	}
	if i := strings.IndexByte(path, '*'); i >= 0 && i != len(path)-1 {
		return errors.New(`"*" is only allowed at the end of a path`)
	}
	templated, err := checkTemplate(path)
	if err != nil {
		return err
	}
	rule.Path = path
	rule.Prefix = strings.HasSuffix(path, "*")
	rule.Templated = templated
	rule.SegmentWildcards = false
	for seg := range strings.SplitSeq(strings.TrimSuffix(path, "*"), "/") {
		if seg == "+" {
			rule.SegmentWildcards = true
			break
		}
	}
	return nil
}

// checkTemplate reports whether path holds {{...}} templating and rejects
// unbalanced or nested braces.
func checkTemplate(path string) (bool, error) {
	if !strings.Contains(path, "{{") && !strings.Contains(path, "}}") {
		return false, nil
	}
	rest := path
	for {
		open := strings.Index(rest, "{{")
		closing := strings.Index(rest, "}}")
		switch {
		case open < 0 && closing < 0:
			return true, nil
		case open < 0 || closing < open:
			return false, errors.New("unbalanced templating characters")
		}
		inner := rest[open+2 : closing]
		if strings.Contains(inner, "{{") {
			return false, errors.New("unbalanced templating characters")
		}
		rest = rest[closing+2:]
	}
}
