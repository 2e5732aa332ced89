package cli

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) kvMetadataCommand(kv *kvState) *cobra.Command {
	return a.groupCommand("metadata", "Read and manage the metadata of KV v2 secrets",
		"Commands for the metadata of KV v2 secrets: versions, settings and custom metadata.",
		a.kvMetadataGetCommand(kv),
		a.kvMetadataPutCommand(kv),
		a.kvMetadataDeleteCommand(kv),
	)
}

func (a *app) kvMetadataGetCommand(kv *kvState) *cobra.Command {
	return &cobra.Command{
		Use:   "get PATH",
		Short: "Print a secret's metadata and versions",
		Long:  "Print a KV v2 secret's settings, custom metadata and the state of each version.",
		Example: `  coffer kv metadata get secret/app
  coffer kv metadata get -mount=secret -format=json app`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			if !t.v2 {
				return errors.New("metadata is only supported on KV version 2 mounts")
			}
			full := t.api("metadata")
			s, err := c.Read(cmd.Context(), full, nil)
			if err != nil {
				return err
			}
			if s == nil {
				return noValue(full)
			}
			if p.field != "" || p.format != "table" {
				return p.secret(s)
			}
			versions, _ := s.Data["versions"].(map[string]any)
			meta := make(map[string]any, len(s.Data))
			for k, v := range s.Data {
				if k != "versions" {
					meta[k] = v
				}
			}
			printPathHeader(p, "Metadata Path", full)
			if err := printSection(p, "Metadata", meta); err != nil {
				return err
			}
			return printVersions(p, versions)
		}),
	}
}

// printVersions prints one section per version, oldest first.
func printVersions(p *printer, versions map[string]any) error {
	nums := make([]int, 0, len(versions))
	for k := range versions {
		if n, err := strconv.Atoi(k); err == nil {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		v, _ := versions[strconv.Itoa(n)].(map[string]any)
		fmt.Fprintln(p.out)
		if err := printSection(p, fmt.Sprintf("Version %d", n), v); err != nil {
			return err
		}
	}
	return nil
}

// kvMetadataFlags are the settings `kv metadata put` can change.
type kvMetadataFlags struct {
	maxVersions        int
	casRequired        bool
	deleteVersionAfter durationFlag
	customMetadata     []string
}

func (a *app) kvMetadataPutCommand(kv *kvState) *cobra.Command {
	var fl kvMetadataFlags
	cmd := &cobra.Command{
		Use:   "put PATH",
		Short: "Change a secret's settings and custom metadata",
		Long: `Change the settings of a KV v2 secret: how many versions to keep, whether
writes must use check-and-set, when versions are deleted automatically, and
custom key=value metadata. Only the flags given are changed. The secret does
not need to exist yet.`,
		Example: `  coffer kv metadata put -max-versions=5 -cas-required secret/app
  coffer kv metadata put -custom-metadata=owner=infra -custom-metadata=tier=1 secret/app
  coffer kv metadata put -delete-version-after=720h secret/app`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			body, err := fl.body(cmd)
			if err != nil {
				return err
			}
			_, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			if !t.v2 {
				return errors.New("metadata is only supported on KV version 2 mounts")
			}
			full := t.api("metadata")
			if _, err := c.Do(cmd.Context(), http.MethodPost, full, body, nil); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Data written to: %s\n", full)
			return err
		}),
	}
	f := cmd.Flags()
	f.IntVar(&fl.maxVersions, "max-versions", 0, "number of versions to keep (0: the mount's setting)")
	f.BoolVar(&fl.casRequired, "cas-required", false, "require check-and-set on every write")
	f.Var(&fl.deleteVersionAfter, "delete-version-after", "soft-delete versions this long after they are written (0s: never)")
	f.StringArrayVar(&fl.customMetadata, "custom-metadata", nil, "key=value custom metadata (repeatable)")
	return cmd
}

// body sends only the settings whose flags were given.
func (fl *kvMetadataFlags) body(cmd *cobra.Command) (map[string]any, error) {
	body := map[string]any{}
	f := cmd.Flags()
	if f.Changed("max-versions") {
		if fl.maxVersions < 0 {
			return nil, usageError(cmd, "-max-versions must not be negative")
		}
		body["max_versions"] = fl.maxVersions
	}
	if f.Changed("cas-required") {
		body["cas_required"] = fl.casRequired
	}
	if f.Changed("delete-version-after") {
		body["delete_version_after"] = fl.deleteVersionAfter.text
	}
	if len(fl.customMetadata) > 0 {
		custom := map[string]string{}
		for _, kv := range fl.customMetadata {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, usageError(cmd, "invalid -custom-metadata %q: want key=value", kv)
			}
			custom[k] = v
		}
		body["custom_metadata"] = custom
	}
	if len(body) == 0 {
		return nil, usageError(cmd, "nothing to change: give at least one flag")
	}
	return body, nil
}

func (a *app) kvMetadataDeleteCommand(kv *kvState) *cobra.Command {
	return &cobra.Command{
		Use:   "delete PATH",
		Short: "Delete a secret's metadata and all its versions",
		Long:  "Permanently delete a KV v2 secret: its metadata and every version. This cannot be undone.",
		Example: `  coffer kv metadata delete secret/app
  coffer kv metadata delete -mount=secret app`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			_, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			if !t.v2 {
				return errors.New("metadata is only supported on KV version 2 mounts")
			}
			full := t.api("metadata")
			if err := kvRequest(cmd, c, http.MethodDelete, full, nil); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Data deleted (if it existed) at: %s\n", full)
			return err
		}),
	}
}
