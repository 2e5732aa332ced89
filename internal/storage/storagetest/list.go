package storagetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func testList(t *testing.T, b storage.Backend) {
	keys := []string{
		"foo", "bar/baz", "bar/qux/quux", "zip",
		"x/a/1", "x/a/2", "x/a/3/4", "x/b",
		"y/a", "y/a/b",
		// '-' and '.' sort just before '/', '0' just after: folder skipping
		// must neither drop nor repeat these.
		"s/B", "s/b-c", "s/b.x", "s/b/x", "s/b/y/z", "s/b0", "s/b0/w",
		"n/1/2/3/4/5",
	}
	for _, k := range keys {
		mustPut(t, b, k, []byte(k))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"bar/", "foo", "n/", "s/", "x/", "y/", "zip"}},
		{"bar/", []string{"baz", "qux/"}},
		{"bar/qux/", []string{"quux"}},
		{"x/", []string{"a/", "b"}},
		{"x/a/", []string{"1", "2", "3/"}},
		{"y/", []string{"a", "a/"}},
		{"s/", []string{"B", "b-c", "b.x", "b/", "b0", "b0/"}},
		{"s/b/", []string{"x", "y/"}},
		{"n/1/2/3/", []string{"4/"}},
		{"nope/", nil},
		{"foo/", nil},
		{"bar/baz/", nil},
	}
	for _, tc := range tests {
		t.Run("prefix="+tc.prefix, func(t *testing.T) {
			got := mustList(t, b, tc.prefix)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
			if tc.want == nil && got != nil {
				t.Fatalf("List(%q) = %#v, want a nil slice", tc.prefix, got)
			}
			if model := modelList(keys, tc.prefix); !slices.Equal(got, model) {
				t.Fatalf("List(%q) = %q, reference model says %q", tc.prefix, got, model)
			}
		})
	}
}

// testListNested lists a tree with many keys nested under each child and
// compares every level with the reference model.
func testListNested(t *testing.T, b storage.Backend) {
	var keys []string
	for f := range 12 {
		for k := range 6 {
			keys = append(keys,
				fmt.Sprintf("tree/f%02d/k%d", f, k),
				fmt.Sprintf("tree/f%02d/sub/%d/leaf", f, k))
		}
	}
	for l := range 5 {
		keys = append(keys, fmt.Sprintf("tree/leaf%02d", l))
	}
	for _, k := range keys {
		mustPut(t, b, k, []byte("v"))
	}
	for _, prefix := range []string{"", "tree/", "tree/f03/", "tree/f03/sub/", "tree/f11/sub/5/"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			got := mustList(t, b, prefix)
			want := modelList(keys, prefix)
			if !slices.Equal(got, want) {
				t.Fatalf("List(%q) = %q, want %q", prefix, got, want)
			}
		})
	}
	if n := len(mustList(t, b, "tree/")); n != 17 {
		t.Fatalf("List(tree/) has %d children, want 12 folders + 5 leaves", n)
	}
}

func testListAfterDelete(t *testing.T, b storage.Backend) {
	mustPut(t, b, "f/a/b", []byte("1"))
	mustPut(t, b, "f/c", []byte("2"))
	steps := []struct {
		del    string
		prefix string
		want   []string
	}{
		{"f/a/b", "f/", []string{"c"}},
		{"", "f/a/", nil},
		{"f/c", "f/", nil},
		{"", "", nil},
	}
	for _, s := range steps {
		if s.del != "" {
			if err := b.Delete(t.Context(), s.del); err != nil {
				t.Fatalf("Delete(%q): %v", s.del, err)
			}
		}
		got := mustList(t, b, s.prefix)
		if !slices.Equal(got, s.want) || (s.want == nil && got != nil) {
			t.Fatalf("after deleting %q: List(%q) = %#v, want %#v", s.del, s.prefix, got, s.want)
		}
	}
}

func testUnusualKeys(t *testing.T, b storage.Backend) {
	keys := []string{
		"with space", "trailing space ", " leading space",
		"percent%2Fencoded", "100%", "plus+and=equals&amp",
		"question?mark#hash", "tab\tkey", "new\nline",
		"a.b/c.d", "dot/.", "dot/./x", "tilde~/~",
		"unicode/ünïcødé", "unicode/日本語/キー", "unicode/🔑",
		"quotes/'single'\"double\"", "back\\slash",
	}
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			mustPut(t, b, k, []byte(k))
			e := mustGet(t, b, k)
			if e.Key != k || string(e.Value) != k {
				t.Fatalf("Get(%q) = {%q, %q}", k, e.Key, e.Value)
			}
		})
	}
	for _, prefix := range []string{"", "unicode/", "unicode/日本語/", "dot/", "quotes/"} {
		if got, want := mustList(t, b, prefix), modelList(keys, prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
}
