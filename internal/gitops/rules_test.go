package gitops

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"environments/prod-eu/**", "environments/prod-eu/app/values.yaml", true},
		{"environments/prod-eu/**", "environments/prod-eu", true},
		{"environments/prod-eu/**", "environments/prod-us/values.yaml", false},
		{"environments/*-staging/**", "environments/eu-staging/a.yaml", true},
		{"environments/*-staging/**", "environments/staging/a.yaml", false},
		{"**/*.env", "a/b/c/app.env", true},
		{"**/*.env", "app.env", true},
		{"**", "anything/at/all", true},
		{"*.yaml", "dir/x.yaml", false},
		{"a/**/b/*.yaml", "a/x/y/b/z.yaml", true},
		{"a/**/b/*.yaml", "a/b/z.yaml", true},
		{"a/**/b/*.yaml", "a/x/c/z.yaml", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.name, func(t *testing.T) {
			if got := MatchGlob(tt.pattern, tt.name); got != tt.want {
				t.Fatalf("MatchGlob = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigMatchOrderAndErrors(t *testing.T) {
	_, r1 := testKeys(t)
	_, r2 := testKeys(t)
	dir := t.TempDir()
	cfg := "rules:\n" +
		"  - path: environments/prod-eu/**\n    environment: prod\n" +
		"  - path: environments/**\n    environment: nonprod\n" +
		"environments:\n" +
		"  prod:\n    recipients: [" + r1.String() + ", coffer://transit/keys/prod-eu]\n" +
		"  nonprod:\n    recipients: [" + r2.String() + "]\n"
	if err := os.WriteFile(filepath.Join(dir, ConfigName), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "environments", "prod-eu")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	p, err := FindConfig(sub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		env  string
		n    int
		err  error
	}{
		{"environments/prod-eu/values.yaml", "prod", 2, nil},
		{"environments/dev/values.yaml", "nonprod", 1, nil},
		{"other/values.yaml", "", 0, ErrNoRule},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rule, rs, _, err := c.Match(filepath.Join(dir, tt.file))
			if !errors.Is(err, tt.err) || rule.Environment != tt.env || len(rs) != tt.n {
				t.Fatalf("Match = %q, %d recipients, %v", rule.Environment, len(rs), err)
			}
		})
	}
	bad := []string{
		"rules:\n  - path: x\n    environment: missing\n",
		"environments:\n  e:\n    recipients: []\n",
		"environments:\n  e:\n    recipients: [age1nope]\n",
		"rules:\n  - path: '['\n    environment: e\nenvironments:\n  e:\n    recipients: [" + r1.String() + "]\n",
		"rules:\n  - path: x\n    environment: e\n    encrypted_regex: '('\nenvironments:\n  e:\n    recipients: [" + r1.String() + "]\n",
		"unknown: field\n",
	}
	for i, b := range bad {
		if _, err := ParseConfig([]byte(b)); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
}
