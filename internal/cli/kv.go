package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// kvState holds the flags shared by the kv subcommands.
type kvState struct {
	mount string
}

func (a *app) kvCommand() *cobra.Command {
	kv := &kvState{}
	cmd := a.groupCommand("kv", "Read and write key/value secrets (KV v1 and v2)",
		`Commands for the key/value secrets engine. The engine's version is detected
for each call (GET sys/internal/ui/mounts/<path>, as the Vault CLI does), so
"coffer kv get secret/app" works on KV v1 and v2 mounts alike; on v2 the data/
and metadata/ API paths are added for you.

Paths are either full ("secret/app") or relative to -mount ("-mount=secret app").`,
		a.kvGetCommand(kv),
		a.kvPutCommand(kv),
		a.kvPatchCommand(kv),
		a.kvListCommand(kv),
		a.kvDeleteCommand(kv),
		a.kvVersionsCommand(kv, "undelete"),
		a.kvVersionsCommand(kv, "destroy"),
		a.kvMetadataCommand(kv),
		a.kvEnableVersioningCommand(),
	)
	cmd.PersistentFlags().StringVar(&kv.mount, "mount", "", "KV mount path; the argument is then relative to it")
	return a.addAPIFlags(cmd)
}

// kvSetup resolves the printer, client and KV target of one kv command.
func (a *app) kvSetup(cmd *cobra.Command, kv *kvState, arg string) (*printer, *apiclient.Client, kvTarget, error) {
	p, err := a.printer(cmd)
	if err != nil {
		return nil, nil, kvTarget{}, err
	}
	c, err := a.client()
	if err != nil {
		return nil, nil, kvTarget{}, err
	}
	t, err := resolveKV(cmd.Context(), c, kv.mount, arg)
	if err != nil {
		return nil, nil, kvTarget{}, err
	}
	return p, c, t, nil
}

func (a *app) kvGetCommand(kv *kvState) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "get PATH",
		Short: "Read a secret",
		Long: `Read a secret's data (and, on KV v2, its version metadata). -version reads an
older version of a KV v2 secret; -field prints one value raw.`,
		Example: `  coffer kv get secret/app
  coffer kv get -mount=secret -version=2 app
  coffer kv get -field=password secret/app`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			full := t.api("data")
			var q url.Values
			if version > 0 {
				if !t.v2 {
					return errors.New("-version needs a KV version 2 mount")
				}
				q = url.Values{"version": {strconv.Itoa(version)}}
			}
			s, err := c.Read(cmd.Context(), full, q)
			if err != nil {
				return err
			}
			if s == nil {
				return noValue(full)
			}
			return a.printKVSecret(p, s, full, t.v2)
		}),
	}
	cmd.Flags().IntVar(&version, "version", 0, "version to read (KV v2; default: latest)")
	return cmd
}

// printKVSecret prints a KV read as the Vault CLI does: path, metadata and
// data sections in table mode.
func (a *app) printKVSecret(p *printer, s *apiclient.Secret, full string, v2 bool) error {
	data := s.Data
	if v2 {
		data, _ = s.Data["data"].(map[string]any)
	}
	if p.field != "" {
		if data == nil {
			return &exitErr{code: exitUsage, err: fmt.Errorf("no data found at %s", full)}
		}
		if v2 && p.field == "data" {
			if _, ok := data["data"]; !ok {
				return p.raw(s.Data["data"], p.field)
			}
		}
		return p.raw(data[p.field], p.field)
	}
	if p.format != "table" || s.WrapInfo != nil {
		return p.secret(s)
	}
	p.warnings(s.Warnings)
	if v2 {
		printPathHeader(p, "Secret Path", full)
	}
	if md, ok := s.Data["metadata"].(map[string]any); ok && v2 {
		if err := printSection(p, "Metadata", md); err != nil {
			return err
		}
		fmt.Fprintln(p.out)
	}
	if data != nil {
		return printSection(p, "Data", data)
	}
	return nil
}

func (a *app) kvPutCommand(kv *kvState) *cobra.Command {
	var cas int
	cmd := &cobra.Command{
		Use:   "put PATH [K=V...]",
		Short: "Write a secret, replacing its data",
		Long: `Write a secret. On KV v2 this creates a new version; on v1 it overwrites.

Data arguments: key=value; key=@file reads a file; key=- reads stdin; a lone
"-" reads a JSON object from stdin; @file.json reads a JSON object from a file.
-cas=N writes only if the current version is N (0: only if it does not exist).`,
		Example: `  coffer kv put secret/app user=admin password=hunter2
  coffer kv put -mount=secret app cert=@tls.pem
  echo '{"a":"b"}' | coffer kv put secret/app -
  coffer kv put -cas=0 secret/new token=-`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError(cmd, "no data given: add key=value arguments")
			}
			data, err := parseData(args[1:], a.stdin)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			p, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			full := t.api("data")
			body := data
			if t.v2 {
				body = kvV2Body(data, cas)
			}
			s, err := c.Write(cmd.Context(), full, body)
			if err != nil {
				return err
			}
			return a.printKVWrite(p, s, full)
		}),
	}
	cmd.Flags().IntVar(&cas, "cas", -1, "check-and-set: write only if the current version is this one (KV v2)")
	return cmd
}

func kvV2Body(data map[string]any, cas int) map[string]any {
	body := map[string]any{"data": data}
	if cas >= 0 {
		body["options"] = map[string]any{"cas": cas}
	}
	return body
}

// printKVWrite prints a write's answer: success text, or the new version's
// metadata under the secret path.
func (a *app) printKVWrite(p *printer, s *apiclient.Secret, full string) error {
	if s == nil {
		if p.format == "table" {
			fmt.Fprintf(p.out, "Success! Data written to: %s\n", full)
		}
		return nil
	}
	if p.field != "" || p.format != "table" {
		return p.secret(s)
	}
	p.warnings(s.Warnings)
	printPathHeader(p, "Secret Path", full)
	return printSection(p, "Metadata", s.Data)
}

func (a *app) kvPatchCommand(kv *kvState) *cobra.Command {
	var cas int
	var method string
	cmd := &cobra.Command{
		Use:   "patch PATH [K=V...]",
		Short: "Update some keys of a KV v2 secret, keeping the others",
		Long: `Merge the given keys into the latest version of a KV v2 secret, creating a new
version. -method=patch (default) sends one JSON merge patch; -method=rw reads
the secret, merges locally and writes it back with check-and-set on the
version read, for servers or policies without the patch capability.`,
		Example: `  coffer kv patch secret/app password=n3w
  coffer kv patch -method=rw -mount=secret app ttl=30m`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError(cmd, "no data given: add key=value arguments")
			}
			if method != "patch" && method != "rw" {
				return usageError(cmd, "invalid -method %q: want patch or rw", method)
			}
			data, err := parseData(args[1:], a.stdin)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			p, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			if !t.v2 {
				return errors.New("KV engine mount must be version 2 for patch support")
			}
			full := t.api("data")
			var s *apiclient.Secret
			if method == "rw" {
				s, err = kvReadThenWrite(cmd, c, full, data)
			} else {
				s, err = c.Patch(cmd.Context(), full, kvV2Body(data, cas))
			}
			if err != nil {
				return err
			}
			return a.printKVWrite(p, s, full)
		}),
	}
	cmd.Flags().IntVar(&cas, "cas", -1, "check-and-set: patch only if the current version is this one")
	cmd.Flags().StringVar(&method, "method", "patch", "patch (one HTTP PATCH) or rw (read, merge, write)")
	return cmd
}

// kvReadThenWrite merges data into the latest version and writes it back,
// failing instead of overwriting if another write came in between.
func kvReadThenWrite(cmd *cobra.Command, c *apiclient.Client, full string, data map[string]any) (*apiclient.Secret, error) {
	cur, err := c.Read(cmd.Context(), full, nil)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, noValue(full)
	}
	existing, _ := cur.Data["data"].(map[string]any)
	if existing == nil {
		return nil, fmt.Errorf("no data found at %s: the latest version is deleted or destroyed", full)
	}
	for k, v := range data {
		existing[k] = v
	}
	md, _ := cur.Data["metadata"].(map[string]any)
	return c.Write(cmd.Context(), full, kvV2Body(existing, intValue(md["version"])))
}

// printPathHeader prints Vault's "== Secret Path ==" block.
func printPathHeader(p *printer, title, path string) {
	fmt.Fprintln(p.out, padEqualSigns(title, len(path)))
	fmt.Fprintln(p.out, path)
	fmt.Fprintln(p.out)
}

// printSection prints a titled Key/Value table of m.
func printSection(p *printer, title string, m map[string]any) error {
	maxKey := 0
	for k := range m {
		maxKey = max(maxKey, len(k))
	}
	// 4 for the column gap and 5 for the width of "Value".
	fmt.Fprintln(p.out, padEqualSigns(title, maxKey+4+5))
	return p.data(m)
}

// padEqualSigns centres a title in equal signs across totalLen columns.
func padEqualSigns(title string, totalLen int) string {
	n := totalLen - (len(title) + 2)
	if n <= 0 {
		n = 4
	}
	if n%2 != 0 {
		n++
	}
	eq := make([]byte, n/2)
	for i := range eq {
		eq[i] = '='
	}
	return fmt.Sprintf("%s %s %s", eq, title, eq)
}

// kvRequest runs one KV request whose only output is a success line.
func kvRequest(cmd *cobra.Command, c *apiclient.Client, method, path string, body any) error {
	_, err := c.Do(cmd.Context(), method, path, body, nil)
	if err != nil && method == http.MethodDelete && apiclient.IsStatus(err, http.StatusNotFound) {
		return nil
	}
	return err
}
