package passpolicy

import (
	"errors"
	"testing"
)

const vaultExample = `
length = 20
rule "charset" {
  charset = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}
rule "charset" {
  charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  min-chars = 1
}
rule "charset" {
  charset = "0123456789"
  min-chars = 1
}
rule "charset" {
  charset = "!@#$%^&*"
  min-chars = 1
}`

func TestParseAndGenerate(t *testing.T) {
	p, err := Parse(vaultExample)
	if err != nil {
		t.Fatal(err)
	}
	if p.Length != 20 || len(p.Rules) != 4 {
		t.Fatalf("parsed %v", p)
	}
	seen := map[string]bool{}
	for range 200 {
		pw, err := p.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !p.Satisfies(pw) {
			t.Fatalf("generated %q does not satisfy the policy", pw)
		}
		seen[pw] = true
	}
	if len(seen) != 200 {
		t.Fatalf("only %d distinct passwords in 200", len(seen))
	}
	// Minimums that fill the whole length still work, and each class
	// shows up exactly as often as required.
	tight, err := Parse(`length = 4
rule "charset" { charset = "ab" min-chars = 2 }
rule "charset" { charset = "12" min-chars = 2 }`)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		pw, _ := tight.Generate()
		if !tight.Satisfies(pw) {
			t.Fatalf("tight policy generated %q", pw)
		}
	}
	if tight.Satisfies("abab") || tight.Satisfies("ab12x") {
		t.Fatal("Satisfies accepted a password that breaks the policy")
	}
}

func TestParseErrors(t *testing.T) {
	for name, text := range map[string]string{
		"too short":      `length = 3` + "\n" + `rule "charset" { charset = "ab" }`,
		"too long":       `length = 101` + "\n" + `rule "charset" { charset = "ab" }`,
		"no rules":       `length = 20`,
		"min too large":  `length = 4` + "\n" + `rule "charset" { charset = "ab" min-chars = 5 }`,
		"unknown key":    `length = 8` + "\n" + `size = 3` + "\n" + `rule "charset" { charset = "ab" }`,
		"unknown rule":   `length = 8` + "\n" + `rule "regex" { charset = "ab" }`,
		"empty charset":  `length = 8` + "\n" + `rule "charset" { charset = "" }`,
		"negative min":   `length = 8` + "\n" + `rule "charset" { charset = "ab" min-chars = -1 }`,
		"unknown field":  `length = 8` + "\n" + `rule "charset" { charset = "ab" max-chars = 1 }`,
		"string length":  `length = "8"` + "\n" + `rule "charset" { charset = "ab" }`,
		"not hcl":        `length = = 8`,
		"rule not block": `length = 8` + "\n" + `rule = "charset"`,
	} {
		if _, err := Parse(text); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(vaultExample)
	f.Add(`length = 4` + "\n" + `rule "charset" { charset = "ab" min-chars = 2 }`)
	f.Add(`{"length": 8, "rule": [{"charset": [{"charset": "xyz", "min-chars": 1}]}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil {
			return
		}
		pw, err := p.Generate()
		if err != nil || !p.Satisfies(pw) {
			t.Fatalf("a valid policy generated %q, %v", pw, err)
		}
	})
}
