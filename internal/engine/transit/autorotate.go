package transit

import (
	"context"
	"fmt"
	"time"
)

// rotateLoop checks for due keys every interval until ctx is cancelled.
// Periods and creation times live in storage, so a restarted server picks
// up where the last one stopped.
func (b *Backend) rotateLoop(ctx context.Context, interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.RotateDue(ctx); err != nil && ctx.Err() == nil {
				b.logger.Warn("transit auto-rotation failed", "error", err)
			}
		}
	}
}

// RotateDue rotates every key whose auto_rotate_period has elapsed since
// its latest version was created, and reports the first error after trying
// every key.
func (b *Backend) RotateDue(ctx context.Context) error {
	names, err := b.store.list(ctx)
	if err != nil {
		return err
	}
	var first error
	for _, name := range names {
		rotated, err := b.rotateIfDue(ctx, name)
		if err != nil {
			if first == nil {
				first = fmt.Errorf("transit: auto-rotate %q: %w", name, err)
			}
			continue
		}
		if rotated {
			b.logger.Info("transit key auto-rotated", "key", name)
		}
	}
	return first
}

func (b *Backend) rotateIfDue(ctx context.Context, name string) (bool, error) {
	rotated := false
	_, err := b.store.update(ctx, name, func(cur *policy) (*policy, error) {
		if cur == nil || !rotationDue(cur, b.now()) {
			return nil, errNoChange
		}
		rotated = true
		return cur, cur.rotate(b.now())
	})
	return rotated && err == nil, err
}

// rotationDue reports whether p's latest version is at least
// auto_rotate_period old.
func rotationDue(p *policy, now time.Time) bool {
	if p.AutoRotatePeriod <= 0 || (p.Imported && !p.AllowImportedKeyRotation) {
		return false
	}
	latest, ok := p.Keys[p.LatestVersion]
	return ok && !now.Before(latest.CreationTime.Add(p.AutoRotatePeriod))
}
