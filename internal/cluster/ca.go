package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/raft"
)

// CAKey is the barrier key of the cluster CA record.
const CAKey = "sys/raft/tls-ca"

// caName names the cluster CA in its certificate's CommonName.
const caName = "coffer"

// caRecord is the stored form of the cluster CA: its certificate and its
// PKCS#8 private key, both PEM.
type caRecord struct {
	CertPEM string `json:"cert_pem"`
	KeyPEM  string `json:"key_pem"`
}

// LoadOrCreateCA returns the cluster CA stored at CAKey in s, creating and
// storing a new one if there is none; created says which happened. s must
// be the barrier (the record holds the CA's private key in plaintext), and
// only the active node calls this, so two creators never race.
func LoadOrCreateCA(ctx context.Context, s storage.Backend) (ca *raft.CA, created bool, err error) {
	e, err := s.Get(ctx, CAKey)
	switch {
	case err == nil:
		ca, err := parseCARecord(e.Value)
		return ca, false, err
	case !errors.Is(err, storage.ErrNotFound):
		return nil, false, fmt.Errorf("cluster: read the cluster CA: %w", err)
	}
	ca, err = raft.NewCA(caName)
	if err != nil {
		return nil, false, fmt.Errorf("cluster: create the cluster CA: %w", err)
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, false, fmt.Errorf("cluster: encode the cluster CA key: %w", err)
	}
	value, err := json.Marshal(caRecord{CertPEM: string(ca.CertPEM), KeyPEM: string(keyPEM)})
	if err != nil {
		return nil, false, fmt.Errorf("cluster: encode the cluster CA: %w", err)
	}
	if err := s.Put(ctx, &storage.Entry{Key: CAKey, Value: value}); err != nil {
		return nil, false, fmt.Errorf("cluster: store the cluster CA: %w", err)
	}
	return ca, true, nil
}

// parseCARecord decodes a stored caRecord into a CA.
func parseCARecord(value []byte) (*raft.CA, error) {
	var rec caRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		return nil, fmt.Errorf("cluster: decode the cluster CA record: %w", err)
	}
	ca, err := raft.LoadCA([]byte(rec.CertPEM), []byte(rec.KeyPEM))
	if err != nil {
		return nil, fmt.Errorf("cluster: load the cluster CA: %w", err)
	}
	if !ca.Cert.IsCA {
		return nil, errors.New("cluster: the stored cluster CA certificate is not a CA")
	}
	return ca, nil
}
