package cluster

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func TestLoadOrCreateCA(t *testing.T) {
	ctx := context.Background()
	s := inmem.New()
	first, created, err := LoadOrCreateCA(ctx, s)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v, want a new CA", created, err)
	}
	if !first.Cert.IsCA {
		t.Fatal("the new certificate is not a CA")
	}
	second, created, err := LoadOrCreateCA(ctx, s)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v, want the stored CA", created, err)
	}
	if !bytes.Equal(first.CertPEM, second.CertPEM) {
		t.Error("the second call returned another certificate")
	}
	k1, _ := first.KeyPEM()
	k2, _ := second.KeyPEM()
	if !bytes.Equal(k1, k2) {
		t.Error("the second call returned another key")
	}
}

// failingGet is a backend whose reads fail.
type failingGet struct{ storage.Backend }

var errDisk = errors.New("disk on fire")

func (failingGet) Get(context.Context, string) (*storage.Entry, error) { return nil, errDisk }

func TestLoadOrCreateCAErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		backend func() storage.Backend
		want    error
	}{
		{"read fails", func() storage.Backend { return failingGet{inmem.New()} }, errDisk},
		{"not json", func() storage.Backend { return withCA(t, []byte("{")) }, nil},
		{"bad pem", func() storage.Backend { return withCA(t, []byte(`{"cert_pem":"x","key_pem":"y"}`)) }, nil},
		{"not a CA", func() storage.Backend {
			ca := newTestCA(t)
			id := issue(t, ca, "n1")
			rec := `{"cert_pem":` + jsonString(id.CertPEM) + `,"key_pem":` + jsonString(id.KeyPEM) + `}`
			return withCA(t, []byte(rec))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, created, err := LoadOrCreateCA(ctx, tt.backend())
			if err == nil || ca != nil || created {
				t.Fatalf("got ca=%v created=%v err=%v, want an error", ca != nil, created, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// withCA returns a backend holding value as the CA record.
func withCA(t *testing.T, value []byte) storage.Backend {
	t.Helper()
	s := inmem.New()
	if err := s.Put(context.Background(), &storage.Entry{Key: CAKey, Value: value}); err != nil {
		t.Fatal(err)
	}
	return s
}
