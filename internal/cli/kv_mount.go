package cli

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// kvTarget is a KV path resolved against its mount.
type kvTarget struct {
	// mount is the mount path with a trailing slash, e.g. "secret/"; empty
	// when the server did not say (then the path is used as given, v1).
	mount string
	// rel is the secret's path relative to the mount ("" for the mount).
	rel string
	v2  bool
}

// resolveKV finds the mount and KV version of arg the way the Vault CLI
// does: GET sys/internal/ui/mounts/<path>, whose data holds the mount "path"
// and "options.version". With -mount, arg is relative to that mount.
func resolveKV(ctx context.Context, c *apiclient.Client, mountFlag, arg string) (kvTarget, error) {
	arg = strings.Trim(arg, "/")
	probe := arg
	if mountFlag != "" {
		probe = strings.Trim(mountFlag, "/")
	}
	if probe == "" {
		return kvTarget{}, fmt.Errorf("missing KV path")
	}
	s, err := c.Do(ctx, http.MethodGet, "sys/internal/ui/mounts/"+probe, nil, nil)
	if err != nil && !apiclient.IsStatus(err, http.StatusNotFound) {
		return kvTarget{}, fmt.Errorf("finding the KV mount of %s: %w", probe, err)
	}
	var mount string
	v2 := false
	if err == nil && s != nil {
		mount, _ = s.Data["path"].(string)
		if opts, ok := s.Data["options"].(map[string]any); ok {
			v2 = opts["version"] == "2"
		}
	}
	if mountFlag != "" {
		if mount == "" {
			mount = probe + "/"
		}
		return kvTarget{mount: ensureSlash(mount), rel: arg, v2: v2}, nil
	}
	if mount == "" {
		return kvTarget{rel: arg, v2: v2}, nil
	}
	mount = ensureSlash(mount)
	rel := strings.TrimPrefix(arg, mount)
	if arg == strings.TrimSuffix(mount, "/") {
		rel = ""
	}
	return kvTarget{mount: mount, rel: rel, v2: v2}, nil
}

func ensureSlash(s string) string {
	if strings.HasSuffix(s, "/") {
		return s
	}
	return s + "/"
}

// api returns the API path for a KV v2 sub-path ("data", "metadata",
// "delete", "undelete", "destroy"); for v1 the plain path.
func (t kvTarget) api(prefix string) string {
	if !t.v2 {
		return strings.TrimSuffix(path.Join(t.mount, t.rel), "/")
	}
	return path.Join(t.mount, prefix, t.rel)
}
