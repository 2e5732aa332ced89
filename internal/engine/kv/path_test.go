package kv

import (
	"strings"
	"testing"
)

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path, wantErr string
	}{
		{"a", ""},
		{"a/b/c", ""},
		{"a.b/c-d_e f", ""},
		{"ünïcode/ключ", ""},
		{strings.Repeat("x", maxPathLen), ""},
		{"", "missing path"},
		{strings.Repeat("x", maxPathLen+1), "longer than 4096"},
		{"a/../b", `".."`},
		{"a..b", `".."`},
		{"/a", "empty segments"},
		{"a/", "empty segments"},
		{"a//b", "empty segments"},
		{"a\x00b", "control characters"},
		{"a\tb", "control characters"},
		{"a\x7fb", "control characters"},
		{"a\xc3", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := validatePath(tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if len(tt.path) > 2 && strings.Contains(err.Error(), tt.path) {
				t.Fatalf("error echoes the path: %v", err)
			}
		})
	}
}

func TestListPrefix(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "", false},
		{"a", "a/", false},
		{"a/", "a/", false},
		{"a/b", "a/b/", false},
		{"a//", "", true},
		{"/", "", true},
		{"../", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := listPrefix(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("listPrefix(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}
