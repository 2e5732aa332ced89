// Command leasebench issues many dynamic database credentials through the
// Vault API and renews their leases so that all of them expire within one
// chosen second; scripts/bench-lease-expiry.sh uses it to measure the read
// latency while the lease manager revokes them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses flags, builds a client from the COFFER_/VAULT_ environment and
// runs the preparation; the report goes to stdout as JSON, progress and
// errors to stderr. It returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("leasebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p Params
	fs.StringVar(&p.CredsPath, "creds", "database/creds/bench", "API path that issues one credential per read")
	fs.IntVar(&p.Count, "count", 10000, "number of credentials (leases) to issue")
	fs.IntVar(&p.Concurrency, "concurrency", 16, "parallel requests")
	fs.DurationVar(&p.Headroom, "headroom", 40*time.Second, "minimum time between the end of the renewals and the common expiry")
	fs.IntVar(&p.Sample, "sample", 200, "leases looked up afterwards to check their expiry")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	client, err := apiclient.New(apiclient.ConfigFromEnv(getenv))
	if err != nil {
		fmt.Fprintf(stderr, "leasebench: %v\n", err)
		return 1
	}
	rep, err := Prepare(ctx, client, p, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "leasebench: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintf(stderr, "leasebench: %v\n", err)
		return 1
	}
	return 0
}
