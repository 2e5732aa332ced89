package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
)

// tokenText returns the value of a string-like token (STRING, HEREDOC,
// IDENT). hcl's Token.Value panics on malformed literals; the parser should
// never produce one, but a config file is outside input, so a panic there
// becomes an error here instead of taking the server down.
func tokenText(tok token.Token) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("malformed string")
		}
	}()
	switch tok.Type {
	case token.STRING, token.HEREDOC, token.IDENT:
		v, ok := tok.Value().(string)
		if !ok {
			return "", errors.New("malformed string")
		}
		return v, nil
	}
	return "", fmt.Errorf("want a string, not %s", kindOf(tok))
}

// kindOf names a token's type for messages.
func kindOf(tok token.Token) string {
	switch tok.Type {
	case token.NUMBER:
		return "a number"
	case token.FLOAT:
		return "a fractional number"
	case token.BOOL:
		return "a bool"
	case token.STRING, token.HEREDOC, token.IDENT:
		return "a string"
	}
	return "a " + strings.ToLower(tok.Type.String())
}

// nodeKind names an AST value for messages.
func nodeKind(n ast.Node) string {
	switch v := n.(type) {
	case *ast.LiteralType:
		return kindOf(v.Token)
	case *ast.ListType:
		return "a list"
	case *ast.ObjectType:
		return "a block"
	}
	return "an unknown value"
}

// literal returns n as a literal token.
func literal(n ast.Node, want string) (token.Token, error) {
	lit, ok := n.(*ast.LiteralType)
	if !ok {
		return token.Token{}, fmt.Errorf("must be %s, not %s", want, nodeKind(n))
	}
	return lit.Token, nil
}

// asString decodes a string value.
func asString(n ast.Node) (string, error) {
	tok, err := literal(n, "a string")
	if err != nil {
		return "", err
	}
	switch tok.Type {
	case token.STRING, token.HEREDOC:
		return tokenText(tok)
	}
	return "", fmt.Errorf("must be a string, not %s", kindOf(tok))
}

// asText decodes an option value: a string, or a number or bool kept as
// written (`slot = 0` is "0").
func asText(n ast.Node) (string, error) {
	tok, err := literal(n, "a string, number or bool")
	if err != nil {
		return "", err
	}
	switch tok.Type {
	case token.NUMBER, token.FLOAT, token.BOOL:
		return tok.Text, nil
	}
	return tokenText(tok)
}

// asBool decodes true/false, the strings "true"/"false"/"1"/"0", or the
// numbers 1/0 (Vault files often say `tls_disable = 1`).
func asBool(n ast.Node) (bool, error) {
	const want = `must be true or false ("true", "false", "1" and "0" also work)`
	tok, err := literal(n, "a bool")
	if err != nil {
		return false, err
	}
	s := tok.Text
	if tok.Type == token.STRING {
		if s, err = tokenText(tok); err != nil {
			return false, err
		}
	}
	switch s {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errors.New(want)
}

// asInt decodes a whole number, written as a number or a string of digits.
func asInt(n ast.Node) (int64, error) {
	tok, err := literal(n, "a whole number")
	if err != nil {
		return 0, err
	}
	s := tok.Text
	switch tok.Type {
	case token.NUMBER:
	case token.STRING:
		if s, err = tokenText(tok); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("must be a whole number, not %s", kindOf(tok))
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, errors.New("must be a whole number")
	}
	return v, nil
}

// asDuration decodes a duration: a Go duration string ("90s", "1h30m"),
// one with a leading day count ("7d", "1d12h"), or whole seconds written as
// a number or a string of digits.
func asDuration(n ast.Node) (time.Duration, error) {
	tok, err := literal(n, "a duration")
	if err != nil {
		return 0, err
	}
	switch tok.Type {
	case token.NUMBER:
		return seconds(tok.Text)
	case token.STRING:
		s, err := tokenText(tok)
		if err != nil {
			return 0, err
		}
		return parseDuration(s)
	}
	return 0, fmt.Errorf(`must be a duration such as "90s", "1h" or "7d", not %s`, kindOf(tok))
}

func seconds(s string) (time.Duration, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > math.MaxInt64/int64(time.Second) || v < math.MinInt64/int64(time.Second) {
		return 0, errors.New("must be a whole number of seconds that fits in a duration")
	}
	return time.Duration(v) * time.Second, nil
}

// parseDuration parses "90s", "7d", "1d12h" or "3600".
func parseDuration(s string) (time.Duration, error) {
	const want = `must be a duration such as "90s", "1h" or "7d"`
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return seconds(s)
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64/int64(24*time.Hour) {
			return 0, errors.New(want)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || (days > 0 && (d < 0 || d > math.MaxInt64-days)) {
		return 0, errors.New(want)
	}
	return days + d, nil
}

// asPrefixes decodes a list of CIDRs, written as a list of strings or as one
// comma-separated string. A bare address is a single-host prefix.
func asPrefixes(n ast.Node, line int) ([]netip.Prefix, error) {
	type elem struct {
		text string
		line int
	}
	var elems []elem
	switch v := n.(type) {
	case *ast.ListType:
		for _, e := range v.List {
			s, err := asString(e)
			if err != nil {
				return nil, fmt.Errorf("list element %w", err)
			}
			elems = append(elems, elem{s, posLine(e.Pos(), line)})
		}
	default:
		s, err := asString(n)
		if err != nil {
			return nil, errors.New("must be a list of CIDRs or a comma-separated string")
		}
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				elems = append(elems, elem{part, line})
			}
		}
	}
	var out []netip.Prefix
	for _, e := range elems {
		p, err := parsePrefix(e.text)
		if err != nil {
			return nil, &lineError{line: e.line, msg: err.Error()}
		}
		out = append(out, p)
	}
	return out, nil
}

// parsePrefix parses a CIDR or a bare address. A CIDR with host bits set
// ("10.1.2.3/8") is rejected: it is almost always a typo.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR such as \"10.0.0.0/8\"", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR such as \"10.0.0.0/8\"", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; did you mean %q", s, m.String())
	}
	return p, nil
}

// posLine returns the line of pos, or fallback when pos has none (the JSON
// parser keeps no positions on values).
func posLine(pos token.Pos, fallback int) int {
	if pos.Line > 0 {
		return pos.Line
	}
	return fallback
}
