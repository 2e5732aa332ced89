package tlsprofile

import (
	"crypto/tls"
	"slices"
	"testing"
)

func TestServer(t *testing.T) {
	tests := []struct {
		name    string
		min     string
		wantMin uint16
	}{
		{"default is TLS 1.2", "", tls.VersionTLS12},
		{"tls12 stays TLS 1.2", "tls12", tls.VersionTLS12},
		{"tls13 raises the minimum", MinTLS13, tls.VersionTLS13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := Server(tt.min, nil)
			if tc.MinVersion != tt.wantMin {
				t.Errorf("MinVersion = %x, want %x", tc.MinVersion, tt.wantMin)
			}
			if !slices.Equal(tc.NextProtos, []string{"h2", "http/1.1"}) {
				t.Errorf("NextProtos = %v", tc.NextProtos)
			}
			for _, s := range tc.CipherSuites {
				for _, insecure := range tls.InsecureCipherSuites() {
					if s == insecure.ID {
						t.Errorf("insecure suite %s offered", insecure.Name)
					}
				}
				if name := tls.CipherSuiteName(s); !slices.Contains([]string{"GCM", "POLY1305"}, aeadOf(name)) {
					t.Errorf("suite %s is not an AEAD", name)
				}
			}
		})
	}
}

// aeadOf returns "GCM" or "POLY1305" when the suite name ends with one.
func aeadOf(name string) string {
	for _, s := range []string{"GCM", "POLY1305"} {
		if len(name) > len(s) && (name[len(name)-len(s)-7:] == s+"_SHA256" || name[len(name)-len(s)-7:] == s+"_SHA384") {
			return s
		}
	}
	return ""
}
