package cert

import "testing"

func TestAnyGlob(t *testing.T) {
	tests := []struct {
		name               string
		patterns, subjects []string
		want               bool
	}{
		{"no patterns allow all", nil, nil, true},
		{"patterns but no subjects", []string{"*"}, nil, false},
		{"one of several", []string{"x", "b*"}, []string{"a", "bc"}, true},
		{"none", []string{"x"}, []string{"a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := anyGlob(tt.patterns, tt.subjects); got != tt.want {
				t.Errorf("anyGlob = %v, want %v", got, tt.want)
			}
		})
	}
}
