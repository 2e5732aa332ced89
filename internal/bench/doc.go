// Package bench is a load generator for any Vault-API server: workloads
// (KV reads and writes, token lookups, logins, transit), a fixed-duration
// runner with warm-up and a concurrency sweep, latency histograms, and the
// ceiling server that the workloads are compared against.
package bench
