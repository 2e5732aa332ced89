package cli

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) secretsCommand() *cobra.Command {
	return a.addAPIFlags(a.groupCommand("secrets", "Enable, list, tune, move and disable secrets engines",
		"Commands for secrets engines: each engine is mounted at a path, like kv at secret/.",
		a.secretsEnableCommand(),
		a.secretsDisableCommand(),
		a.secretsListCommand(),
		a.secretsTuneCommand(),
		a.secretsMoveCommand(),
	))
}

// mountTuning is what both enable and tune can set.
type mountTuning struct {
	description                  string
	defaultLeaseTTL, maxLeaseTTL durationFlag
	options                      []string
}

func (m *mountTuning) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&m.description, "description", "", "human-friendly description of the mount")
	f.Var(&m.defaultLeaseTTL, "default-lease-ttl", "default lease TTL of the engine's secrets (default: the system's)")
	f.Var(&m.maxLeaseTTL, "max-lease-ttl", "maximum lease TTL of the engine's secrets (default: the system's)")
	f.StringArrayVar(&m.options, "options", nil, "key=value engine option (repeatable)")
}

// config returns the mount's "config" object and its "options".
func (m *mountTuning) config(cmd *cobra.Command) (map[string]any, map[string]any, error) {
	cfg := map[string]any{}
	if m.defaultLeaseTTL.text != "" {
		cfg["default_lease_ttl"] = m.defaultLeaseTTL.text
	}
	if m.maxLeaseTTL.text != "" {
		cfg["max_lease_ttl"] = m.maxLeaseTTL.text
	}
	opts := map[string]any{}
	for _, kv := range m.options {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, nil, usageError(cmd, "invalid -options %q: want key=value", kv)
		}
		opts[k] = v
	}
	return cfg, opts, nil
}

func (a *app) secretsEnableCommand() *cobra.Command {
	var tune mountTuning
	var mountPath string
	var version int
	var local, sealWrap bool
	cmd := &cobra.Command{
		Use:   "enable [flags] TYPE",
		Short: "Mount a secrets engine",
		Long: `Mount a secrets engine of TYPE at -path (default: the type's name). "kv-v2" is
kv with -version=2.`,
		Example: `  coffer secrets enable -path=secret -version=2 kv
  coffer secrets enable -path=team-a -description="team A secrets" kv-v2`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			cfg, opts, err := tune.config(cmd)
			if err != nil {
				return err
			}
			engine := strings.TrimSpace(args[0])
			if mountPath == "" {
				mountPath = engine
			}
			mountPath = ensureSlash(strings.Trim(mountPath, "/"))
			if version > 0 {
				opts["version"] = strconv.Itoa(version)
			}
			if engine == "kv-v2" {
				engine, opts["version"] = "kv", "2"
			}
			body := map[string]any{"type": engine, "description": tune.description, "config": cfg,
				"local": local, "seal_wrap": sealWrap}
			if len(opts) > 0 {
				body["options"] = opts
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Do(cmd.Context(), http.MethodPost, "sys/mounts/"+strings.TrimSuffix(mountPath, "/"), body, nil); err != nil {
				return fmt.Errorf("enabling: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Enabled the %s secrets engine at: %s\n", engine, mountPath)
			return err
		}),
	}
	tune.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&mountPath, "path", "", "where to mount the engine (default: TYPE)")
	f.IntVar(&version, "version", 0, "engine version option, e.g. 2 for KV v2")
	f.BoolVar(&local, "local", false, "do not replicate the mount")
	f.BoolVar(&sealWrap, "seal-wrap", false, "seal-wrap the engine's critical values")
	return cmd
}

func (a *app) secretsDisableCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "disable PATH",
		Short:   "Unmount a secrets engine and delete its data",
		Long:    "Unmount the secrets engine at PATH, revoking its leases and deleting all its data.",
		Example: "  coffer secrets disable team-a/",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			p := ensureSlash(strings.Trim(args[0], "/"))
			if _, err := c.Delete(cmd.Context(), "sys/mounts/"+strings.TrimSuffix(p, "/"), nil); err != nil {
				return fmt.Errorf("disabling: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Disabled the secrets engine (if it existed) at: %s\n", p)
			return err
		}),
	}
}

func (a *app) secretsTuneCommand() *cobra.Command {
	var tune mountTuning
	cmd := &cobra.Command{
		Use:   "tune [flags] PATH",
		Short: "Change a mounted engine's settings",
		Long:  "Change the description, lease TTLs or options of the engine mounted at PATH. Only the flags given change.",
		Example: `  coffer secrets tune -default-lease-ttl=1h -max-lease-ttl=24h secret/
  coffer secrets tune -description="app secrets" secret/`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			cfg, opts, err := tune.config(cmd)
			if err != nil {
				return err
			}
			body := cfg
			if cmd.Flags().Changed("description") {
				body["description"] = tune.description
			}
			if len(opts) > 0 {
				body["options"] = opts
			}
			if len(body) == 0 {
				return usageError(cmd, "nothing to tune: give at least one flag")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			p := ensureSlash(strings.Trim(args[0], "/"))
			if _, err := c.Do(cmd.Context(), http.MethodPost, "sys/mounts/"+p+"tune", body, nil); err != nil {
				return fmt.Errorf("tuning: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Tuned the secrets engine at: %s\n", p)
			return err
		}),
	}
	tune.addFlags(cmd)
	return cmd
}

func (a *app) secretsListCommand() *cobra.Command {
	return a.mountsListCommand("sys/mounts", "secrets engines", `  coffer secrets list
  coffer secrets list -detailed`)
}

// mountsListCommand lists the mounts a sys/ endpoint returns (sys/mounts
// or sys/auth) as a table, or structured with -format.
func (a *app) mountsListCommand(endpoint, what, example string) *cobra.Command {
	var detailed bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the " + what,
		Long:    "List the " + what + ": path, type, accessor and description; more with -detailed.",
		Example: example,
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			var body map[string]any
			if err := c.DoRaw(cmd.Context(), http.MethodGet, endpoint, nil, nil, &body); err != nil {
				return fmt.Errorf("listing %s: %w", what, err)
			}
			mounts := map[string]map[string]any{}
			for path, v := range bodyData(body) {
				if m, ok := v.(map[string]any); ok && m["type"] != nil {
					mounts[path] = m
				}
			}
			if p.format != "table" {
				return p.structured(mounts)
			}
			return writeMounts(p, mounts, detailed)
		}),
	}
	cmd.Flags().BoolVar(&detailed, "detailed", false, "show TTLs, options, replication and more")
	return cmd
}

func writeMounts(p *printer, mounts map[string]map[string]any, detailed bool) error {
	paths := make([]string, 0, len(mounts))
	for path := range mounts {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	header := []string{"Path", "Type", "Accessor", "Description"}
	if detailed {
		header = []string{"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Force No Cache",
			"Replication", "Seal Wrap", "Options", "Description", "UUID", "Version"}
	}
	rows := make([][]string, 0, len(paths))
	for _, path := range paths {
		m := mounts[path]
		if !detailed {
			rows = append(rows, []string{path, str(m["type"]), str(m["accessor"]), str(m["description"])})
			continue
		}
		cfg, _ := m["config"].(map[string]any)
		replication := "replicated"
		if m["local"] == true {
			replication = "local"
		}
		options := ""
		if o, ok := m["options"].(map[string]any); ok && len(o) > 0 {
			options = formatValue(o)
		}
		rows = append(rows, []string{path, str(m["type"]), str(m["accessor"]),
			mountTTL(m, cfg["default_lease_ttl"]), mountTTL(m, cfg["max_lease_ttl"]),
			fmt.Sprint(cfg["force_no_cache"] == true), replication, fmt.Sprint(m["seal_wrap"] == true),
			options, str(m["description"]), str(m["uuid"]), str(m["plugin_version"])})
	}
	return writeTable(p.out, header, rows)
}

// mountTTL prints a mount TTL as Vault does: "system" when unset, n/a for
// the built-in mounts that have none.
func mountTTL(m map[string]any, ttl any) string {
	switch m["type"] {
	case "system", "cubbyhole", "identity":
		return ""
	}
	if intValue(ttl) == 0 {
		return "system"
	}
	return humanSeconds(intValue(ttl))
}
