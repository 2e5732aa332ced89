package policy

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
	hclstrconv "github.com/hashicorp/hcl/hcl/strconv"
	"github.com/hashicorp/hcl/hcl/token"
)

// key returns the text of an object key: an identifier or a quoted string.
func (d *decoder) key(k *ast.ObjectKey) (string, error) {
	switch k.Token.Type {
	case token.IDENT:
		return k.Token.Text, nil
	case token.STRING:
		return d.unquote(k, k.Token)
	}
	return "", d.errorf(k, "unexpected key %s", k.Token.Type)
}

// itemKey returns the first key of an object item.
func (d *decoder) itemKey(item *ast.ObjectItem) (string, error) {
	if len(item.Keys) == 0 {
		return "", d.errorf(item, "expected a key")
	}
	return d.key(item.Keys[0])
}

// unquote decodes a STRING token without the panics of token.Value.
func (d *decoder) unquote(n ast.Node, tok token.Token) (string, error) {
	if tok.Text == "" { // JSON null
		return "", nil
	}
	unquote := hclstrconv.Unquote
	if tok.JSON {
		unquote = strconv.Unquote
	}
	s, err := unquote(tok.Text)
	if err != nil {
		return "", d.errorf(n, "malformed string %s", tok.Text)
	}
	return s, nil
}

// literal returns n as a literal, or an error naming what was expected.
func (d *decoder) literal(n ast.Node, want string) (*ast.LiteralType, error) {
	lit, ok := n.(*ast.LiteralType)
	if !ok {
		return nil, d.errorf(n, "expected %s, got %s", want, describe(n))
	}
	return lit, nil
}

// stringValue decodes a string; numbers are taken as their text, as the HCL
// decoder Vault uses does.
func (d *decoder) stringValue(n ast.Node) (string, error) {
	lit, err := d.literal(n, "a string")
	if err != nil {
		return "", err
	}
	switch lit.Token.Type {
	case token.STRING:
		return d.unquote(lit, lit.Token)
	case token.HEREDOC:
		return heredoc(lit.Token), nil
	case token.NUMBER, token.FLOAT:
		return lit.Token.Text, nil
	}
	return "", d.errorf(n, "expected a string, got %s", describe(n))
}

// stringList decodes a list of strings.
func (d *decoder) stringList(n ast.Node) ([]string, error) {
	list, ok := n.(*ast.ListType)
	if !ok {
		return nil, d.errorf(n, "expected a list of strings, got %s", describe(n))
	}
	out := make([]string, 0, len(list.List))
	for _, el := range list.List {
		s, err := d.stringValue(el)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// capabilities decodes a list of capability names.
func (d *decoder) capabilities(n ast.Node) (Capability, error) {
	list, ok := n.(*ast.ListType)
	if !ok {
		return 0, d.errorf(n, `expected a list of capabilities like ["read"], got %s`, describe(n))
	}
	var caps Capability
	for _, el := range list.List {
		s, err := d.stringValue(el)
		if err != nil {
			return 0, err
		}
		c, err := ParseCapability(s)
		if err != nil {
			return 0, d.errorf(el, "%v", err)
		}
		caps |= c
	}
	return caps, nil
}

// parameters decodes allowed_parameters / denied_parameters: an object whose
// values are lists. Keys are lowercased, as Vault matches them.
func (d *decoder) parameters(n ast.Node) (map[string][]any, error) {
	obj, ok := n.(*ast.ObjectType)
	if !ok {
		return nil, d.errorf(n, `expected an object like { "key" = [] }, got %s`, describe(n))
	}
	out := make(map[string][]any, len(obj.List.Items))
	for _, item := range obj.List.Items {
		if len(item.Keys) != 1 {
			return nil, d.errorf(item, "expected one parameter name per entry")
		}
		k, err := d.itemKey(item)
		if err != nil {
			return nil, err
		}
		k = strings.ToLower(k)
		if _, dup := out[k]; dup {
			return nil, d.errorf(item, "parameter %q is listed more than once", k)
		}
		list, ok := item.Val.(*ast.ListType)
		if !ok {
			return nil, d.errorf(item.Val, "parameter %q: expected a list of values, got %s", k, describe(item.Val))
		}
		vals := make([]any, 0, len(list.List))
		for _, el := range list.List {
			v, err := d.value(el)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		out[k] = vals
	}
	return out, nil
}

// value decodes a parameter value: string, int64, float64, bool, []any or
// map[string]any.
func (d *decoder) value(n ast.Node) (any, error) {
	switch n := n.(type) {
	case *ast.LiteralType:
		return d.literalValue(n)
	case *ast.ListType:
		out := make([]any, 0, len(n.List))
		for _, el := range n.List {
			v, err := d.value(el)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *ast.ObjectType:
		out := make(map[string]any, len(n.List.Items))
		for _, item := range n.List.Items {
			if len(item.Keys) != 1 {
				return nil, d.errorf(item, "expected one key per object entry")
			}
			k, err := d.key(item.Keys[0])
			if err != nil {
				return nil, err
			}
			if _, dup := out[k]; dup {
				return nil, d.errorf(item, "key %q is set more than once", k)
			}
			if out[k], err = d.value(item.Val); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, d.errorf(n, "unexpected %s", describe(n))
}

// literalValue decodes a scalar literal.
func (d *decoder) literalValue(lit *ast.LiteralType) (any, error) {
	switch lit.Token.Type {
	case token.STRING:
		return d.unquote(lit, lit.Token)
	case token.HEREDOC:
		return heredoc(lit.Token), nil
	case token.NUMBER:
		v, err := strconv.ParseInt(lit.Token.Text, 0, 64)
		if err != nil {
			return nil, d.errorf(lit, "malformed number %s", lit.Token.Text)
		}
		return v, nil
	case token.FLOAT:
		v, err := strconv.ParseFloat(lit.Token.Text, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, d.errorf(lit, "malformed number %s", lit.Token.Text)
		}
		return v, nil
	case token.BOOL:
		return lit.Token.Text == "true", nil
	}
	return nil, d.errorf(lit, "unexpected %s", lit.Token.Type)
}

// duration decodes a TTL: integer seconds (as a number or a string), a Go
// duration string ("90s", "1h30m") or whole days ("7d").
func (d *decoder) duration(n ast.Node) (time.Duration, error) {
	lit, err := d.literal(n, "a duration")
	if err != nil {
		return 0, err
	}
	var text string
	switch lit.Token.Type {
	case token.NUMBER:
		text = lit.Token.Text
	case token.STRING:
		if text, err = d.unquote(lit, lit.Token); err != nil {
			return 0, err
		}
	default:
		return 0, d.errorf(n, "expected a duration, got %s", describe(n))
	}
	dur, err := ParseDuration(text)
	if err != nil {
		return 0, d.errorf(n, "%v", err)
	}
	return dur, nil
}

// ParseDuration parses a TTL as Vault does: "" is zero, a bare integer is
// seconds, "Nd" is N days, anything else is a Go duration. Negative values
// are rejected.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	unit := time.Second
	digits := s
	if strings.HasSuffix(s, "d") {
		unit, digits = 24*time.Hour, strings.TrimSuffix(s, "d")
	}
	var dur time.Duration
	if n, err := strconv.ParseInt(digits, 10, 64); err == nil {
		if n > int64(math.MaxInt64/unit) || n < int64(math.MinInt64/unit) {
			return 0, errors.New("duration " + strconv.Quote(s) + " is out of range")
		}
		dur = time.Duration(n) * unit
	} else if unit != time.Second {
		return 0, errors.New("malformed duration " + strconv.Quote(s))
	} else if dur, err = time.ParseDuration(s); err != nil {
		return 0, errors.New("malformed duration " + strconv.Quote(s))
	}
	if dur < 0 {
		return 0, errors.New("duration " + strconv.Quote(s) + " is negative")
	}
	return dur, nil
}

// heredoc returns the body of a heredoc token (token.Value may panic on a
// malformed one; decodeFile recovers).
func heredoc(tok token.Token) string {
	s, _ := tok.Value().(string)
	return s
}

// describe names the kind of node for error messages.
func describe(n ast.Node) string {
	switch n := n.(type) {
	case *ast.ListType:
		return "a list"
	case *ast.ObjectType:
		return "an object"
	case *ast.LiteralType:
		return strings.ToLower(n.Token.Type.String())
	}
	return "an unexpected value"
}
