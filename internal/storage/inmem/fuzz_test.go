package inmem_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// FuzzList stores newline-separated keys from outside input and checks that
// List agrees with a direct computation from storage.Child for every prefix
// those keys imply.
func FuzzList(f *testing.F) {
	f.Add("a/b/c\na/b\na/bc\na/b-c\na/b0\nz", "a/")
	f.Add("s/B\ns/b.x\ns/b/x\ns/b/y/z\ns/b0/w\ns/b/", "s/b/")
	f.Add("x\nx/\nx//y\n日本/語\n%2F/%", "")
	f.Add("../a\n/a\na/../b\nok", "")
	f.Fuzz(func(t *testing.T, input, prefix string) {
		b := inmem.New()
		var keys []string
		for _, k := range strings.Split(input, "\n") {
			err := b.Put(t.Context(), &storage.Entry{Key: k, Value: []byte(k)})
			if (err == nil) != (storage.ValidateKey(k) == nil) {
				t.Fatalf("Put(%q) error = %v, ValidateKey says %v", k, err, storage.ValidateKey(k))
			}
			if err == nil {
				keys = append(keys, k)
			}
		}
		prefixes := []string{"", prefix}
		for _, k := range keys {
			for i := range len(k) {
				if k[i] == '/' {
					prefixes = append(prefixes, k[:i+1])
				}
			}
		}
		for _, p := range prefixes {
			got, err := b.List(t.Context(), p)
			if storage.ValidatePrefix(p) != nil {
				if err == nil {
					t.Fatalf("List(%q) of invalid prefix succeeded", p)
				}
				continue
			}
			if err != nil {
				t.Fatalf("List(%q): %v", p, err)
			}
			if want := model(keys, p); !slices.Equal(got, want) || (want == nil) != (got == nil) {
				t.Fatalf("List(%q) = %q, want %q", p, got, want)
			}
		}
	})
}

func model(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if c, ok := storage.Child(prefix, k); ok {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
