// Package passpolicy parses Vault's password policies (HCL: a length and
// charset rules with minimum counts) and generates passwords that satisfy
// them from crypto/rand.
package passpolicy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl"
)

// Limits of a policy, as Vault's.
const (
	MinLength = 4
	MaxLength = 100
	// MaxSize bounds the policy text.
	MaxSize = 16 << 10
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid password policy")

// Rule is one `rule "charset"` block: at least MinChars of the password
// come from Charset.
type Rule struct {
	Charset  []rune
	MinChars int
}

// Policy is a parsed password policy.
type Policy struct {
	Length int
	Rules  []Rule
	// alphabet is the union of the rules' charsets, each rune once.
	alphabet []rune
}

// Parse reads a policy in Vault's syntax:
//
//	length = 20
//	rule "charset" {
//	  charset   = "abcdefghijklmnopqrstuvwxyz"
//	  min-chars = 1
//	}
func Parse(text string) (p *Policy, err error) {
	if len(text) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	defer func() { // the HCL parser panics on a few malformed tokens
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: malformed input", ErrInvalid)
		}
	}()
	var raw map[string]any
	if err := hcl.Decode(&raw, text); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	p = &Policy{}
	for k, v := range raw {
		switch k {
		case "length":
			n, ok := v.(int)
			if !ok {
				return nil, fmt.Errorf("%w: length must be a number", ErrInvalid)
			}
			p.Length = n
		case "rule":
			if err := p.decodeRules(v); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: unknown key %q", ErrInvalid, k)
		}
	}
	return p, p.validate()
}

// decodeRules reads the `rule "charset" {...}` blocks as hcl.Decode
// shapes them: a list of {"charset": [ {fields} ]}.
func (p *Policy) decodeRules(v any) error {
	blocks, ok := v.([]map[string]any)
	if !ok {
		return fmt.Errorf("%w: rule must be a block such as rule \"charset\" { ... }", ErrInvalid)
	}
	for _, b := range blocks {
		for kind, body := range b {
			if kind != "charset" {
				return fmt.Errorf("%w: unknown rule type %q (only \"charset\")", ErrInvalid, kind)
			}
			bodies, ok := body.([]map[string]any)
			if !ok {
				return fmt.Errorf("%w: malformed charset rule", ErrInvalid)
			}
			for _, fields := range bodies {
				r, err := decodeCharset(fields)
				if err != nil {
					return err
				}
				p.Rules = append(p.Rules, r)
			}
		}
	}
	return nil
}

func decodeCharset(fields map[string]any) (Rule, error) {
	var r Rule
	for k, v := range fields {
		switch k {
		case "charset":
			s, ok := v.(string)
			if !ok || s == "" || !utf8.ValidString(s) {
				return r, fmt.Errorf("%w: charset must be a non-empty UTF-8 string", ErrInvalid)
			}
			r.Charset = uniqueRunes(s)
		case "min-chars":
			n, ok := v.(int)
			if !ok || n < 0 {
				return r, fmt.Errorf("%w: min-chars must be a number ≥ 0", ErrInvalid)
			}
			r.MinChars = n
		default:
			return r, fmt.Errorf("%w: unknown charset field %q", ErrInvalid, k)
		}
	}
	if len(r.Charset) == 0 {
		return r, fmt.Errorf("%w: a charset rule needs a charset", ErrInvalid)
	}
	return r, nil
}

func (p *Policy) validate() error {
	if p.Length < MinLength || p.Length > MaxLength {
		return fmt.Errorf("%w: length must be %d to %d", ErrInvalid, MinLength, MaxLength)
	}
	if len(p.Rules) == 0 {
		return fmt.Errorf("%w: at least one charset rule is needed", ErrInvalid)
	}
	minSum := 0
	var all []rune
	for _, r := range p.Rules {
		minSum += r.MinChars
		all = append(all, r.Charset...)
	}
	if minSum > p.Length {
		return fmt.Errorf("%w: the rules' min-chars add up to %d, more than the length %d", ErrInvalid, minSum, p.Length)
	}
	p.alphabet = uniqueRunes(string(all))
	return nil
}

func uniqueRunes(s string) []rune {
	rs := []rune(s)
	slices.Sort(rs)
	return slices.Compact(rs)
}

// Generate returns a password of p.Length runes from the rules' charsets
// that meets every rule's minimum: the minimums are drawn first, the rest
// from the union of the charsets, then the whole is shuffled. Every choice
// comes from crypto/rand.
func (p *Policy) Generate() (string, error) {
	out := make([]rune, 0, p.Length)
	for _, r := range p.Rules {
		for range r.MinChars {
			c, err := pick(r.Charset)
			if err != nil {
				return "", err
			}
			out = append(out, c)
		}
	}
	for len(out) < p.Length {
		c, err := pick(p.alphabet)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for i := len(out) - 1; i > 0; i-- { // Fisher–Yates
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(set []rune) (rune, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, fmt.Errorf("passpolicy: crypto/rand: %w", err)
	}
	return set[n.Int64()], nil
}

// Satisfies reports whether password meets p: its length in runes, every
// rune from some charset, and every rule's minimum.
func (p *Policy) Satisfies(password string) bool {
	rs := []rune(password)
	if len(rs) != p.Length {
		return false
	}
	for _, c := range rs {
		if _, ok := slices.BinarySearch(p.alphabet, c); !ok {
			return false
		}
	}
	for _, r := range p.Rules {
		n := 0
		for _, c := range rs {
			if _, ok := slices.BinarySearch(r.Charset, c); ok {
				n++
			}
		}
		if n < r.MinChars {
			return false
		}
	}
	return true
}

// String describes the policy without generating anything.
func (p *Policy) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "password policy: length %d", p.Length)
	for _, r := range p.Rules {
		fmt.Fprintf(&b, ", ≥%d of %d chars", r.MinChars, len(r.Charset))
	}
	return b.String()
}
