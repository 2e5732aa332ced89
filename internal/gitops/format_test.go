package gitops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSealedFilesStayValid checks a sealed file still parses in its own
// format, with every value a token string.
func TestSealedFilesStayValid(t *testing.T) {
	kr, r := testKeys(t)
	t.Run("json", func(t *testing.T) {
		sealed := sealBytes(t, kr, JSON, []byte(`{"a": 1, "b": {"c": [true, "x"]}}`), r)
		var v map[string]any
		if err := json.Unmarshal(sealed, &v); err != nil {
			t.Fatalf("sealed JSON does not parse: %v\n%s", err, sealed)
		}
		if _, ok := v["coffer"].([]any); !ok || !IsToken(v["a"].(string)) {
			t.Fatalf("sealed JSON: %v", v)
		}
	})
	t.Run("yaml flow", func(t *testing.T) {
		sealed := sealBytes(t, kr, YAML, []byte("m: {a: b, c: [d, 'e']}\n"), r)
		var v struct {
			M struct {
				A string
				C []string
			}
		}
		if err := yaml.Unmarshal(sealed, &v); err != nil || !IsToken(v.M.A) || !IsToken(v.M.C[1]) {
			t.Fatalf("sealed flow YAML: %+v %v\n%s", v, err, sealed)
		}
	})
}

func TestFormatFor(t *testing.T) {
	tests := map[string]Format{
		"a/values.yaml": YAML, "x.YML": YAML, "c.json": JSON, ".env": Dotenv, ".env.prod": Dotenv,
		"prod.env": Dotenv, "app.ini": INI, "app.conf": INI,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			if got, err := FormatFor(name); err != nil || got != want {
				t.Fatalf("FormatFor = %v, %v; want %v", got, err, want)
			}
		})
	}
	if _, err := FormatFor("README.md"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("README.md: %v", err)
	}
}

func TestUnsupportedInputs(t *testing.T) {
	kr, r := testKeys(t)
	tests := []struct {
		format Format
		src    string
	}{
		{JSON, `[1, 2]`},
		{JSON, `{}`},
		{YAML, "a: [unclosed\n"},
		{YAML, "- |\r \n- >\n  0"},  // a lone CR is a YAML line break
		{YAML, "a: b\u2028c: d\n"},  // so is U+2028
		{YAML, "a: \"x\u0085y\"\n"}, // and NEL
		{Dotenv, "NOEQUALS\n"},
		{INI, "[unterminated\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format.String()+" "+tt.src, func(t *testing.T) {
			_, err := kr.Seal(context.Background(), tt.format, []byte(tt.src), []Recipient{r}, nil)
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
		})
	}
}

func TestDataKeyRedacted(t *testing.T) {
	k, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Trim(strings.ReplaceAll(s, "[REDACTED]", ""), " ") != "" {
			t.Fatalf("data key printed as %q", s)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	kr, r := testKeys(b)
	var sb strings.Builder
	for i := range 100 {
		fmt.Fprintf(&sb, "key%d:\n  password: value-%d-%s\n", i, i, strings.Repeat("x", 32))
	}
	plain := []byte(sb.String())
	ctx := context.Background()
	sealed, err := kr.Seal(ctx, YAML, plain, []Recipient{r}, nil)
	if err != nil {
		b.Fatal(err)
	}
	f, _ := Parse(YAML, sealed)
	b.Run("seal-100-values", func(b *testing.B) {
		for b.Loop() {
			if _, err := kr.Seal(ctx, YAML, plain, []Recipient{r}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open-100-values", func(b *testing.B) {
		for b.Loop() {
			if _, err := kr.Open(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
