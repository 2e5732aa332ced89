package lease

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Start reads the first entry of the expiry index (one folder per index
// level, never every lease), arms the timer for it and starts the expiry
// loop. Leases that fell due while the server was down expire right away.
// Calling Start on a started manager does nothing.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.done != nil {
		m.mu.Unlock()
		return nil
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done, wake := make(chan struct{}), make(chan struct{}, 1)
	m.cancel, m.done, m.wake = cancel, done, wake
	m.mu.Unlock()
	go m.run(loopCtx, wake, done)

	var first time.Time
	err := m.st.scanExpiry(ctx, func(e indexEntry) bool { first = e.due; return false })
	if err != nil {
		m.Stop()
		return err
	}
	if !first.IsZero() {
		m.arm(first)
	}
	return nil
}

// Stop stops the timer and the expiry loop and waits for the loop to return.
// In-flight revocations see their context cancelled.
func (m *Manager) Stop() {
	m.mu.Lock()
	cancel, done := m.cancel, m.done
	m.cancel, m.done = nil, nil
	if m.timer != nil {
		m.timer.Stop()
		m.timer, m.timerAt = nil, time.Time{}
	}
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (m *Manager) run(ctx context.Context, wake <-chan struct{}, done chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			close(done)
			return
		case <-wake:
			m.expireDue(ctx)
		}
	}
}

// arm makes the one timer fire at t unless it is already set to fire
// earlier. It does nothing on a stopped manager.
func (m *Manager) arm(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done == nil || (m.timer != nil && !t.Before(m.timerAt)) {
		return
	}
	if m.timer != nil {
		m.timer.Stop()
	}
	wake := m.wake
	m.timerAt = t
	m.timer = m.opts.AfterFunc(max(t.Sub(m.now()), 0), func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
}

// disarm forgets the timer that just fired.
func (m *Manager) disarm() {
	m.mu.Lock()
	if m.timer != nil {
		m.timer.Stop()
	}
	m.timer, m.timerAt = nil, time.Time{}
	m.mu.Unlock()
}

// expireDue revokes every lease due now, a batch at a time, then arms the
// timer for the next due entry.
func (m *Manager) expireDue(ctx context.Context) {
	m.disarm()
	for ctx.Err() == nil {
		now := m.now()
		batch, next, err := m.st.due(ctx, now, m.opts.BatchSize)
		if err != nil {
			m.log.Error("lease: reading the expiry index failed", "error", err)
			m.arm(now.Add(m.opts.RetryBase))
			return
		}
		if len(batch) == 0 {
			if !next.IsZero() {
				m.arm(next)
			}
			return
		}
		if failed := m.processBatch(ctx, batch); failed == len(batch) {
			m.arm(now.Add(m.opts.RetryBase))
			return
		}
	}
}

// processBatch handles the entries with up to Workers at once and returns
// how many failed to make progress (storage errors).
func (m *Manager) processBatch(ctx context.Context, batch []indexEntry) int {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
		sem    = make(chan struct{}, m.opts.Workers)
	)
	for _, e := range batch {
		if err := m.opts.pace(ctx); err != nil {
			break // stopping: the rest stay due and are picked up after restart
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := m.processEntry(ctx, e); err != nil {
				m.log.Error("lease: expiry failed", "error", err)
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// processEntry revokes the lease behind one due index entry, or drops the
// entry if it no longer matches a lease.
func (m *Manager) processEntry(ctx context.Context, e indexEntry) error {
	id, err := m.st.readValue(ctx, e.key)
	if err != nil {
		return err
	}
	l, err := m.st.get(ctx, id)
	if id == "" || errors.Is(err, ErrNotFound) || (err == nil && (l.Irrevocable || expiryKey(l.DueTime, l.ID) != e.key)) {
		return m.st.view.Delete(ctx, e.key)
	}
	if err != nil {
		return err
	}
	if rerr := m.rev.RevokeLease(ctx, l); rerr != nil {
		return m.recordFailure(ctx, l.ID, rerr)
	}
	m.txMu.Lock()
	defer m.txMu.Unlock()
	cur, err := m.st.get(ctx, l.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return m.st.remove(ctx, cur)
}

// recordFailure counts a failed revocation: the lease is retried after an
// exponential backoff, or marked irrevocable after MaxAttempts.
func (m *Manager) recordFailure(ctx context.Context, id string, cause error) error {
	m.txMu.Lock()
	old, err := m.st.get(ctx, id)
	if err != nil {
		m.txMu.Unlock()
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	l := *old
	l.Attempts++
	l.LastError = cause.Error()
	if l.Attempts >= m.opts.MaxAttempts {
		l.Irrevocable = true
	} else {
		l.DueTime = m.now().Add(m.backoff(l.Attempts))
	}
	err = m.st.put(ctx, old, &l)
	m.txMu.Unlock()
	if err != nil {
		return err
	}
	if l.Irrevocable {
		m.log.Error("lease: revocation failed too often; lease is irrevocable", "lease", &l, "error", cause)
		return nil
	}
	m.log.Warn("lease: revocation failed; will retry", "lease", &l, "retry_at", l.DueTime, "error", cause)
	m.arm(l.DueTime)
	return nil
}

// backoff is the delay after the n-th failed attempt: RetryBase·2^(n-1),
// capped at MaxRetryDelay.
func (m *Manager) backoff(n int) time.Duration {
	d := m.opts.RetryBase
	for i := 1; i < n && d < m.opts.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, m.opts.MaxRetryDelay)
}
