package cert

import "github.com/cofferdev/coffer/internal/auth/authutil"

// anyGlob reports whether any of the patterns matches any of the subjects.
// An empty pattern list allows everything, as Vault's allowed_* lists do.
func anyGlob(patterns, subjects []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		for _, s := range subjects {
			if authutil.Glob(p, s) {
				return true
			}
		}
	}
	return false
}
