package audit

import "time"

// SinkStatus is one sink as sys/audit lists it.
type SinkStatus struct {
	Name        string
	Type        string
	Destination string
	Mode        string
	Entries     uint64
	Failures    uint64
	LastError   string
	LastErrorAt time.Time
	LastWriteAt time.Time
}

// Status reports every sink's counters and last error.
func (b *Broker) Status() []SinkStatus {
	if b == nil {
		return nil
	}
	out := make([]SinkStatus, 0, len(b.sinks))
	for _, s := range b.sinks {
		s.stats.mu.Lock()
		out = append(out, SinkStatus{Name: s.cfg.Name, Type: s.cfg.Type, Destination: s.cfg.Destination(),
			Mode: s.cfg.Mode.String(), Entries: s.stats.entries, Failures: s.stats.failures,
			LastError: s.stats.lastErr, LastErrorAt: s.stats.lastErrAt, LastWriteAt: s.stats.lastOK})
		s.stats.mu.Unlock()
	}
	return out
}
