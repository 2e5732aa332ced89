package server

import (
	"fmt"
	"log/slog"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/config"
)

// openAudit builds the audit broker from the config's audit blocks (the
// only way sinks are created). A server without blocks gets an empty
// broker, which logs nothing and never fails a request.
func openAudit(blocks []config.Audit, logger *slog.Logger) (*audit.Broker, error) {
	cfgs := make([]audit.SinkConfig, 0, len(blocks))
	for _, b := range blocks {
		c, err := audit.ParseSinkConfig(b.Type, b.Name, b.Options)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		cfgs = append(cfgs, c)
	}
	return audit.NewBroker(cfgs, audit.BrokerOptions{Logger: logger})
}

// reopenAudit reopens file sinks after log rotation (SIGHUP).
func (s *Server) reopenAudit() {
	if !s.audit.Enabled() {
		return
	}
	if err := s.audit.Reopen(); err != nil {
		s.logger.Error("server: reopening audit files failed", "error", err)
		return
	}
	s.logger.Info("server: audit files reopened")
}

// closeAudit ends every sink with a final checkpoint, before the core
// seals and the signing key is forgotten.
func (s *Server) closeAudit() {
	if s.audit == nil {
		return
	}
	if err := s.audit.Close(); err != nil {
		s.logger.Error("server: closing audit sinks failed", "error", err)
	}
}

// Reload does what SIGHUP does: re-read TLS certificates and reopen audit
// files after rotation.
func (s *Server) Reload() { s.reload() }
