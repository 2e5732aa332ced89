package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigName is the rules file at a repository's root.
const ConfigName = ".coffer.yaml"

// Config is a parsed .coffer.yaml: path rules, each naming an environment,
// and the recipients of each environment.
//
//	rules:
//	  - path: environments/prod-eu/**
//	    environment: prod-eu
//	  - path: environments/*-staging/**
//	    environment: nonprod
//	    encrypted_regex: ^(password|token|.*_key)$
//	environments:
//	  prod-eu:
//	    recipients: [coffer://transit/keys/prod-eu, age1...]
type Config struct {
	// Root is the directory holding the rules file; rule paths are
	// relative to it, with forward slashes.
	Root         string                 `yaml:"-"`
	Rules        []Rule                 `yaml:"rules"`
	Environments map[string]Environment `yaml:"environments"`
}

// Rule maps files whose path matches Path (a glob where * matches within a
// path segment and ** any number of segments) to an environment.
type Rule struct {
	Path        string `yaml:"path"`
	Environment string `yaml:"environment"`
	// EncryptedRegex, when set, seals only values whose key path has a
	// segment matching it; other values stay in the clear.
	EncryptedRegex string `yaml:"encrypted_regex"`

	re *regexp.Regexp
}

// Environment lists the recipients of an environment's files.
type Environment struct {
	Recipients []string `yaml:"recipients"`

	parsed []Recipient
}

// ParseConfig parses and validates a rules file.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigName, err)
	}
	for name, env := range c.Environments {
		if len(env.Recipients) == 0 {
			return nil, fmt.Errorf("%s: environment %q has no recipients", ConfigName, name)
		}
		for _, s := range env.Recipients {
			r, err := ParseRecipient(s)
			if err != nil {
				return nil, fmt.Errorf("%s: environment %q: %w", ConfigName, name, err)
			}
			env.parsed = append(env.parsed, r)
		}
		c.Environments[name] = env
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if _, ok := c.Environments[r.Environment]; !ok {
			return nil, fmt.Errorf("%s: rule %q names unknown environment %q", ConfigName, r.Path, r.Environment)
		}
		if _, err := path.Match(strings.ReplaceAll(r.Path, "**", "*"), ""); err != nil {
			return nil, fmt.Errorf("%s: rule %q: %w", ConfigName, r.Path, err)
		}
		if r.EncryptedRegex != "" {
			re, err := regexp.Compile(r.EncryptedRegex)
			if err != nil {
				return nil, fmt.Errorf("%s: rule %q: encrypted_regex: %w", ConfigName, r.Path, err)
			}
			r.re = re
		}
	}
	return &c, nil
}

// FindConfig looks for the rules file in dir and its parents.
func FindConfig(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("finding %s: %w", ConfigName, err)
	}
	for {
		p := filepath.Join(dir, ConfigName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("finding %s: %w", ConfigName, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no %s in this directory or any parent", ErrNoRule, ConfigName)
		}
		dir = parent
	}
}

// LoadConfig reads the rules file at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, err
	}
	c.Root = filepath.Dir(path)
	return c, nil
}

// Match returns the first rule matching file (a path on disk), its
// environment's recipients and its value selector.
func (c *Config) Match(file string) (Rule, []Recipient, Selector, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return Rule{}, nil, nil, fmt.Errorf("matching %s: %w", file, err)
	}
	rel, err := filepath.Rel(c.Root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return Rule{}, nil, nil, fmt.Errorf("%w: %s is outside %s", ErrNoRule, file, c.Root)
	}
	rel = filepath.ToSlash(rel)
	for _, r := range c.Rules {
		if MatchGlob(r.Path, rel) {
			return r, c.Environments[r.Environment].parsed, r.selector(), nil
		}
	}
	return Rule{}, nil, nil, fmt.Errorf("%w: %s", ErrNoRule, rel)
}

func (r Rule) selector() Selector {
	if r.re == nil {
		return nil
	}
	return func(p string) bool {
		for _, seg := range splitPath(p) {
			if r.re.MatchString(seg) {
				return true
			}
		}
		return false
	}
}

// splitPath splits a key path into unescaped mapping keys.
func splitPath(p string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			cur.WriteByte(p[i])
		case c == '.' || c == '[':
			out = append(out, cur.String())
			cur.Reset()
			if c == '[' {
				for i < len(p) && p[i] != ']' {
					i++
				}
			}
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// MatchGlob matches a slash-separated path against a pattern whose
// segments are path.Match patterns, "**" matching zero or more segments.
func MatchGlob(pattern, name string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegs(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
