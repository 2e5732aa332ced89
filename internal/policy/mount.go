package policy

import (
	"strings"
)

// grantsAccess is what makes a rule reveal a mount: any capability that
// reads or changes data, and no deny.
const grantsAccess = CreateCapability | ReadCapability | UpdateCapability | PatchCapability |
	DeleteCapability | ListCapability | SudoCapability

// HasMountAccess reports whether the ACL grants anything at or below mount
// (e.g. "secret/"): Vault's test for showing a mount to a token in
// sys/internal/ui/mounts. Root sees every mount.
func (a *ACL) HasMountAccess(mount string) bool {
	if a.root {
		return true
	}
	mount = strings.TrimLeft(mount, "/")
	if r := a.lookup(mount, true); r != nil && r.reveals() {
		return true
	}
	for _, table := range []map[string]*rule{a.exact, a.prefix} {
		for path, r := range table {
			if strings.HasPrefix(path, mount) && r.reveals() {
				return true
			}
		}
	}
	segs := strings.Split(strings.TrimSuffix(mount, "/"), "/")
	for _, list := range a.wild {
		for _, r := range list {
			if r.reveals() && r.coversMount(segs) {
				return true
			}
		}
	}
	for _, r := range a.wildAny {
		if r.reveals() && r.coversMount(segs) {
			return true
		}
	}
	return false
}

// reveals reports whether the rule grants access rather than denying it.
func (r *rule) reveals() bool {
	return r.caps&DenyCapability == 0 && r.caps&grantsAccess != 0
}

// coversMount reports whether a "+" rule can match paths under a mount
// whose segments are mountSegs.
func (r *rule) coversMount(mountSegs []string) bool {
	if len(r.segs) < len(mountSegs) {
		return false
	}
	for i, m := range mountSegs {
		s := r.segs[i]
		switch {
		case s == "+" || s == m:
		case r.prefix && i == len(r.segs)-1 && strings.HasPrefix(m, s):
		default:
			return false
		}
	}
	return true
}
