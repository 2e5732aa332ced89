package seal

import (
	"context"
	"errors"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name              string
		typ               string
		shares, threshold int
		ok                bool
	}{
		{"1 of 1", TypeShamir, 1, 1, true},
		{"3 of 5", TypeShamir, 5, 3, true},
		{"5 of 5", TypeShamir, 5, 5, true},
		{"2 of 255", TypeShamir, 255, 2, true},
		{"auto", TypeStatic, 1, 1, true},
		{"no type", "", 5, 3, false},
		{"no shares", TypeShamir, 0, 0, false},
		{"negative", TypeShamir, -1, 1, false},
		{"too many shares", TypeShamir, 256, 3, false},
		{"threshold 0", TypeShamir, 5, 0, false},
		{"threshold above shares", TypeShamir, 3, 4, false},
		{"threshold 1 of 5", TypeShamir, 5, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Config{Type: tt.typ, SecretShares: tt.shares, SecretThreshold: tt.threshold}.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate = %v; want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v; want ErrInvalidConfig", err)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Config
		ok   bool
	}{
		{"valid", `{"type":"shamir","secret_shares":5,"secret_threshold":3}`, Config{TypeShamir, 5, 3}, true},
		{"unknown field ignored", `{"type":"static","secret_shares":1,"secret_threshold":1,"x":1}`, Config{TypeStatic, 1, 1}, true},
		{"invalid rules", `{"type":"shamir","secret_shares":5,"secret_threshold":1}`, Config{}, false},
		{"not json", `type=shamir`, Config{}, false},
		{"wrong types", `{"type":1}`, Config{}, false},
		{"empty", ``, Config{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.in))
			if tt.ok != (err == nil) || got != tt.want {
				t.Fatalf("ParseConfig = %+v, %v; want %+v, ok=%v", got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"type":"shamir","secret_shares":5,"secret_threshold":3}`))
	f.Add([]byte(`{"type":"static","secret_shares":1,"secret_threshold":1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config %+v: %v", c, err)
		}
	})
}

type fakeSeal struct{}

func (fakeSeal) Type() string                                   { return "fake" }
func (fakeSeal) Wrap(context.Context, []byte) ([]byte, error)   { return nil, nil }
func (fakeSeal) Unwrap(context.Context, []byte) ([]byte, error) { return nil, nil }

type fakeAuto struct{ fakeSeal }

func (fakeAuto) Auto() {}

func TestIsAuto(t *testing.T) {
	if IsAuto(fakeSeal{}) {
		t.Error("IsAuto(plain seal) = true")
	}
	if !IsAuto(fakeAuto{}) {
		t.Error("IsAuto(auto seal) = false")
	}
}
