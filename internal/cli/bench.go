package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
	"github.com/cofferdev/coffer/internal/bench"
)

// benchFlags are the flags of coffer bench and coffer bench ceiling.
type benchFlags struct {
	duration, warmup time.Duration
	concurrency      string
	repeat           int
	headers          []string
	params           bench.Params
	process          bool
}

func (a *app) benchCommand() *cobra.Command {
	f := &benchFlags{params: bench.DefaultParams()}
	cmd := &cobra.Command{
		Use:   "bench [WORKLOAD...]",
		Short: "Measure a Vault-API server's throughput and latency",
		Long: `Run load against any Vault-API server (Coffer, Vault, OpenBao) and print
requests per second and latency percentiles for each workload and concurrency.
Each workload sets up what it needs (a mount, secrets, a role) under a fresh
bench-* path and removes it afterwards. Connections are kept alive.

Workloads: ` + joinNames() + ` (default kv-read).
login-approle, login-userpass and login-jwt enable their auth method at a
fresh path (login-jwt trusts a P-256 key made for the run and sends one signed
JWT); their roles issue -token-type tokens (batch by default: nothing is
written per login). They fail with "auth method not mounted" on servers
without the method.

-header "Name: value" (repeatable) adds a header to every measured request
sent to the server, e.g. "X-Coffer-Consistency: stale" to read from a Coffer
standby without waiting for the active node's commit index. Workload setup
and cleanup requests go without it.

"coffer bench ceiling" also measures a bare net/http server that returns the
bytes of a KV v2 read over the same TLS settings, and prints each workload's
throughput as a share of it.`,
		Example: `  export COFFER_ADDR=https://127.0.0.1:8200 COFFER_TOKEN=... COFFER_CACERT=ca.pem
  coffer bench -duration=10s -warmup=2s -concurrency=1,16,64 kv-read kv-write
  coffer bench -keys=1000 -read-ratio=0.8 -format=json kv-mixed
  coffer bench ceiling -concurrency=16 kv-read
  coffer bench -concurrency=16 -token-type=service login-approle login-jwt
  coffer bench -header "X-Coffer-Consistency: stale" -concurrency=16,64 kv-read`,
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.runBench(cmd, f, args, false)
		}),
	}
	ceiling := &cobra.Command{
		Use:   "ceiling [WORKLOAD...]",
		Short: "Measure workloads as a share of a bare net/http server's throughput",
		Long: `Measure the ceiling, a bare net/http handler in this process answering every
request with the exact bytes of a KV v2 read from the server, over the server's
TLS settings (TLS when the address is https), with the same client; then run
the workloads (default kv-read) against the server and print their ratio to
the ceiling at each concurrency.

-process also runs the same bare handler in a child process of its own, as
the server runs, and measures it right after the in-process ceiling (row
"ceiling-process", column "of process ceiling"). A server in another process
pays for the process boundary (two runtimes and garbage collectors, wake-ups
across processes) on top of what it does; the in-process ceiling does not.
The ratio to the process ceiling is what the server's own work costs; the
ratio of the two ceilings is what the boundary costs on this machine.`,
		Example: `  coffer bench ceiling -concurrency=16 -repeat=3 kv-read
  coffer bench ceiling -process -concurrency=16 -format=json kv-read`,
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.runBench(cmd, f, args, true)
		}),
	}
	ceiling.Flags().BoolVar(&f.process, "process", false, "also measure the bare handler in a child process (row ceiling-process)")
	serve := &cobra.Command{
		Use:    "ceiling-serve",
		Short:  "Serve the ceiling for a parent coffer bench ceiling -process (internal)",
		Long:   "Read what to serve from stdin, print where it is served, and serve it until stdin closes. Started by \"coffer bench ceiling -process\".",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			return bench.ServeCeiling(a.stdin, a.stdout)
		}),
	}
	cmd.AddCommand(ceiling, serve)
	pf := cmd.PersistentFlags()
	pf.DurationVar(&f.duration, "duration", 10*time.Second, "measured time per workload and concurrency")
	pf.DurationVar(&f.warmup, "warmup", 2*time.Second, "unmeasured time before each measurement")
	pf.StringVar(&f.concurrency, "concurrency", "1,16,64", "comma-separated numbers of parallel clients to sweep")
	pf.IntVar(&f.repeat, "repeat", 1, "measurements per workload and concurrency; the median is reported")
	pf.IntVar(&f.params.PayloadBytes, "payload-bytes", f.params.PayloadBytes, "size of each written value or transit plaintext")
	pf.IntVar(&f.params.Keys, "keys", f.params.Keys, "number of distinct KV secrets")
	pf.Float64Var(&f.params.ReadRatio, "read-ratio", f.params.ReadRatio, "share of kv-mixed requests that are reads (0..1)")
	pf.StringVar(&f.params.TokenType, "token-type", f.params.TokenType, "token type the login workloads' roles issue: batch or service")
	pf.StringArrayVar(&f.headers, "header", nil, `extra "Name: value" header on every measured request (repeatable)`)
	return a.addAPIFlags(cmd)
}

func joinNames() string { return strings.Join(bench.WorkloadNames(), ", ") }

// runBench runs the named workloads (kv-read by default), after the
// ceiling when withCeiling, and prints the results.
func (a *app) runBench(cmd *cobra.Command, f *benchFlags, names []string, withCeiling bool) error {
	format, err := a.format(cmd)
	if err != nil {
		return err
	}
	if format == "yaml" {
		return usageError(cmd, "bench prints -format=table or json")
	}
	conc, err := bench.ParseConcurrency(f.concurrency)
	if err != nil {
		return usageError(cmd, "%v", err)
	}
	headers, err := bench.ParseHeaders(f.headers)
	if err != nil {
		return usageError(cmd, "-header: %v", err)
	}
	if len(names) == 0 {
		names = []string{"kv-read"}
	}
	var workloads []bench.Workload
	for _, n := range names {
		w, err := bench.NewWorkload(n, f.params)
		if err != nil {
			return usageError(cmd, "%v", err)
		}
		workloads = append(workloads, w)
	}
	cfg := a.apiConfig()
	api, err := apiclient.New(cfg)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	target, err := bench.NewTarget(cfg, maxInt(conc))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer target.Close()
	if headers != nil {
		target = target.WithHeader(headers)
	}
	if f.repeat < 1 || f.repeat > 100 {
		return usageError(cmd, "-repeat %d: want 1..100", f.repeat)
	}
	opts := bench.Options{Duration: f.duration, Warmup: f.warmup, Concurrency: conc, Repeat: f.repeat, Progress: a.stderr}
	if f.process {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("-process: finding this program to run it again: %w", err)
		}
		opts.CeilingProcess = []string{exe, "bench", "ceiling-serve"}
	}
	var results []bench.Result
	var runErr error
	if withCeiling {
		results, runErr = bench.RunWithCeiling(cmd.Context(), api, target, workloads, f.params, opts)
	} else {
		var errs []error
		for _, w := range workloads {
			res, err := bench.RunWorkload(cmd.Context(), api, target, w, opts)
			results = append(results, res...)
			errs = append(errs, err)
		}
		runErr = errors.Join(errs...)
	}
	if runErr != nil {
		fmt.Fprintf(a.stderr, "Error: %v\n", runErr)
	}
	if format == "json" {
		err = bench.WriteJSON(a.stdout, results)
	} else {
		err = bench.WriteTable(a.stdout, results)
	}
	if err != nil {
		return err
	}
	if runErr != nil {
		return quietExit(exitError)
	}
	return nil
}

// apiConfig is the client configuration from the environment and the
// global flags, as a.client() builds it.
func (a *app) apiConfig() apiclient.Config {
	cfg := apiclient.ConfigFromEnv(a.getenv)
	if a.flags.address != "" {
		cfg.Address = a.flags.address
	}
	if a.flags.caCert != "" {
		cfg.CACert = a.flags.caCert
	}
	if a.flags.clientCert != "" {
		cfg.ClientCert = a.flags.clientCert
	}
	if a.flags.clientKey != "" {
		cfg.ClientKey = a.flags.clientKey
	}
	if a.flags.tlsSkipVerify {
		cfg.TLSSkipVerify = true
	}
	return cfg
}

func maxInt(xs []int) int {
	m := 1
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
