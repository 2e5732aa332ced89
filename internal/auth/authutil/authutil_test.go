package authutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "anything/at/all", true},
		{"abc", "abc", true}, {"abc", "abcd", false}, {"abc", "abd", false},
		{"a*", "abc", true}, {"a*", "ba", false}, {"*c", "abc", true}, {"*c", "abcd", false},
		{"team-*", "team-", true}, {"team-*", "tea", false}, {"*-prod", "eu-prod-2", false},
		{"*.example.com", "app.example.com", true}, {"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", true}, {"a*c", "ac", true}, {"a*c", "abcbc", true},
		{"a*c", "abcb", false}, {"a*a", "a", false}, {"ab*ba", "aba", false},
		{"a*b*c", "aXbYc", true}, {"a*b*c", "acb", false}, {"a*c*e", "ace", true}, {"a*c*e", "acd", false},
		{"**", "x", true}, {"?", "a", false}, {"a?c", "abc", false}, {"a.c", "abc", false}, {"[a]", "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			if got := Glob(tt.pattern, tt.s); got != tt.want {
				t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

// FuzzGlob: Glob agrees with the equivalent anchored regular expression
// ('*' as ".*", everything else literal).
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"*.example.com", "a.example.com"}, {"a*b*c", "abc"}, {"", ""}, {"**a", "ba"}, {"a*a", "a"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re, err := regexp.Compile("^(?s:" + strings.Join(parts, ".*") + ")$")
		if err != nil {
			t.Skip()
		}
		if got, want := Glob(pattern, s), re.MatchString(s); got != want {
			t.Fatalf("Glob(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

var errCorrupt = errors.New("test: stored entry is corrupt")

// failing fails every Get and Put.
type failing struct{ storage.Backend }

func (failing) Get(context.Context, string) (*storage.Entry, error) {
	return nil, errors.New("disk on fire")
}
func (failing) Put(context.Context, *storage.Entry) error { return errors.New("disk on fire") }

func TestJSON(t *testing.T) {
	ctx := context.Background()
	type entry struct{ Secret string }
	tests := []struct {
		name    string
		setup   func(s storage.Backend) storage.Backend
		wantOK  bool
		wantErr string
		corrupt bool
	}{
		{"round trip", func(s storage.Backend) storage.Backend {
			if err := PutJSON(ctx, s, "m", "k", entry{Secret: "hunter2"}); err != nil {
				t.Fatal(err)
			}
			return s
		}, true, "", false},
		{"absent", func(s storage.Backend) storage.Backend { return s }, false, "", false},
		{"corrupt", func(s storage.Backend) storage.Backend {
			if err := s.Put(ctx, &storage.Entry{Key: "k", Value: []byte(`{"Secret": hunter2`)}); err != nil {
				t.Fatal(err)
			}
			return s
		}, false, "test: stored entry is corrupt: k", true},
		{"storage fails", func(s storage.Backend) storage.Backend { return failing{s} }, false, "m: read k: disk on fire", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.setup(inmem.New())
			var got entry
			ok, err := GetJSON(ctx, s, "m", "k", &got, errCorrupt)
			if ok != tt.wantOK || (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("GetJSON = %v, %v; want %v, %q", ok, err, tt.wantOK, tt.wantErr)
			}
			if errors.Is(err, errCorrupt) != tt.corrupt || (err != nil && strings.Contains(err.Error(), "hunter2")) {
				t.Fatalf("error %v: corrupt %v, want %v, and no stored text", err, errors.Is(err, errCorrupt), tt.corrupt)
			}
			if ok && got.Secret != "hunter2" {
				t.Fatalf("decoded %+v", got)
			}
		})
	}
	if err := PutJSON(ctx, failing{inmem.New()}, "m", "k", 1); err == nil || err.Error() != "m: write k: disk on fire" {
		t.Fatalf("PutJSON on failing storage: %v", err)
	}
	if err := PutJSON(ctx, inmem.New(), "m", "k", func() {}); err == nil || !strings.HasPrefix(err.Error(), "m: encode k: ") {
		t.Fatalf("PutJSON of a func: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	if got := NonNil(nil); got == nil || len(got) != 0 {
		t.Errorf("NonNil(nil) = %#v", got)
	}
	if got := NonNil([]string{"a"}); len(got) != 1 || got[0] != "a" {
		t.Errorf("NonNil([a]) = %#v", got)
	}
	l := slog.New(slog.DiscardHandler)
	if Logger(l) != l || Logger(nil) == nil {
		t.Error("Logger did not keep a given logger or make one")
	}
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !Clock(func() time.Time { return fixed })().Equal(fixed) {
		t.Error("Clock did not keep the given clock")
	}
	if d := time.Since(Clock(nil)()); d < 0 || d > time.Hour {
		t.Errorf("Clock(nil) is %v off the wall clock", d)
	}
}

func TestListAndExists(t *testing.T) {
	ctx := context.Background()
	type role struct{ N int }
	load := func(ctx context.Context, s storage.Backend, name string) (*role, error) {
		var r role
		ok, err := GetJSON(ctx, s, "m", "role/"+name, &r, errCorrupt)
		if !ok || err != nil {
			return nil, err
		}
		return &r, nil
	}
	s := inmem.New()
	if err := PutJSON(ctx, s, "m", "role/a", role{N: 1}); err != nil {
		t.Fatal(err)
	}
	exists := ExistsByName(load)
	list := ListHandler("m: list roles", "role/")
	tests := []struct {
		name, entry string
		store       storage.Backend
		want        bool
		wantErr     string
	}{
		{"present", "a", s, true, ""},
		{"absent", "b", s, false, ""},
		{"storage fails", "a", failing{s}, false, "m: read role/a: disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &logical.Request{Storage: tt.store}
			d := &logical.FieldData{Raw: map[string]any{"name": tt.entry}, Schema: map[string]*logical.Field{"name": {Type: logical.TypeString}}}
			got, err := exists(ctx, req, d)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("exists = %v, %v; want %v, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
	resp, err := list(ctx, &logical.Request{Storage: s}, nil)
	if err != nil || fmt.Sprint(resp.Data["keys"]) != "[a]" {
		t.Fatalf("list = %+v, %v", resp, err)
	}
	if _, err := list(ctx, &logical.Request{Storage: failingList{s}}, nil); err == nil || err.Error() != "m: list roles: disk on fire" {
		t.Fatalf("list on failing storage: %v", err)
	}
}

// failingList fails every List.
type failingList struct{ storage.Backend }

func (failingList) List(context.Context, string) ([]string, error) {
	return nil, errors.New("disk on fire")
}
