package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/policy"
	"github.com/cofferdev/coffer/internal/storage"
)

// Built-in policy names.
const (
	rootPolicy             = "root"
	defaultPolicy          = "default"
	responseWrappingPolicy = "response-wrapping"
)

// policyStore keeps ACL policies in the barrier and caches parsed policies
// and compiled ACLs. Every write clears the ACL cache.
type policyStore struct {
	view storage.Backend

	mu       sync.RWMutex
	policies map[string]*policy.Policy
	acls     map[string]*policy.ACL
}

func newPolicyStore(view storage.Backend) *policyStore {
	return &policyStore{view: view, policies: map[string]*policy.Policy{}, acls: map[string]*policy.ACL{}}
}

func (ps *policyStore) ensureDefault(ctx context.Context) error {
	_, err := ps.view.Get(ctx, defaultPolicy)
	if errors.Is(err, storage.ErrNotFound) {
		return ps.put(ctx, defaultPolicy, policy.DefaultPolicy())
	}
	return err
}

// get returns a parsed policy, or nil if it does not exist.
func (ps *policyStore) get(ctx context.Context, name string) (*policy.Policy, error) {
	ps.mu.RLock()
	p, ok := ps.policies[name]
	ps.mu.RUnlock()
	if ok {
		return p, nil
	}
	e, err := ps.view.Get(ctx, name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err = policy.Parse(name, string(e.Value))
	if err != nil {
		return nil, fmt.Errorf("core: stored policy %q does not parse: %w", name, err)
	}
	ps.mu.Lock()
	ps.policies[name] = p
	ps.mu.Unlock()
	return p, nil
}

func (ps *policyStore) put(ctx context.Context, name, text string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == rootPolicy || name == responseWrappingPolicy {
		return logical.InvalidRequest("cannot update %q policy", name)
	}
	if err := policy.ValidateName(name); err != nil {
		return logical.InvalidRequest("%v", err)
	}
	p, err := policy.Parse(name, text)
	if err != nil {
		return logical.InvalidRequest("failed to parse policy: %v", err)
	}
	if err := ps.view.Put(ctx, &storage.Entry{Key: name, Value: []byte(text)}); err != nil {
		return err
	}
	ps.mu.Lock()
	ps.policies[name] = p
	ps.acls = map[string]*policy.ACL{}
	ps.mu.Unlock()
	return nil
}

func (ps *policyStore) delete(ctx context.Context, name string) error {
	switch name {
	case rootPolicy, defaultPolicy, responseWrappingPolicy:
		return logical.InvalidRequest("cannot delete %q policy", name)
	}
	if err := ps.view.Delete(ctx, name); err != nil {
		return err
	}
	ps.mu.Lock()
	delete(ps.policies, name)
	ps.acls = map[string]*policy.ACL{}
	ps.mu.Unlock()
	return nil
}

func (ps *policyStore) list(ctx context.Context) ([]string, error) {
	keys, err := ps.view.List(ctx, "")
	if err != nil {
		return nil, err
	}
	out := append([]string{rootPolicy}, keys...)
	sort.Strings(out)
	return out, nil
}

// acl returns the compiled ACL for a set of policy names. Names that do not
// exist contribute nothing, as in Vault.
func (ps *policyStore) acl(ctx context.Context, names []string) (*policy.ACL, error) {
	key := strings.Join(names, "\x00")
	ps.mu.RLock()
	a, ok := ps.acls[key]
	ps.mu.RUnlock()
	if ok {
		return a, nil
	}
	var pols []*policy.Policy
	for _, n := range names {
		if n == rootPolicy {
			pols = append(pols, &policy.Policy{Name: rootPolicy})
			continue
		}
		p, err := ps.get(ctx, n)
		if err != nil {
			return nil, err
		}
		if p != nil {
			pols = append(pols, p)
		}
	}
	a, err := policy.NewACL(pols...)
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	ps.acls[key] = a
	ps.mu.Unlock()
	return a, nil
}
