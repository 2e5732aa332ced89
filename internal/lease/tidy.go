package lease

import (
	"context"
	"errors"
	"strings"
)

// Tidy removes index entries that no longer match a stored lease (left by a
// crash or an old bug) and returns how many it removed. It walks every index
// and is meant for an operator's explicit request, not for unseal.
func (m *Manager) Tidy(ctx context.Context) (int, error) {
	removed := 0
	for _, prefix := range []string{expiryPrefix, tokenPrefix, irrevocablePrefix} {
		err := m.st.walk(ctx, prefix, func(key string) error {
			stale, err := m.staleIndexEntry(ctx, key)
			if err != nil || !stale {
				return err
			}
			if err := m.st.view.Delete(ctx, key); err != nil {
				return err
			}
			removed++
			return nil
		})
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// staleIndexEntry reports whether an index key no longer belongs to its lease.
func (m *Manager) staleIndexEntry(ctx context.Context, key string) (bool, error) {
	m.txMu.Lock()
	defer m.txMu.Unlock()
	id, err := m.st.readValue(ctx, key)
	if err != nil || id == "" {
		return id == "", err
	}
	l, err := m.st.get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	switch {
	case strings.HasPrefix(key, expiryPrefix):
		return l.Irrevocable || expiryKey(l.DueTime, l.ID) != key, nil
	case strings.HasPrefix(key, irrevocablePrefix):
		return !l.Irrevocable || irrevocableKey(l.ID) != key, nil
	default:
		return l.TokenAccessor == "" || tokenKey(l.TokenAccessor, l.ID) != key, nil
	}
}
