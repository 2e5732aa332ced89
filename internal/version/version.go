// Package version holds Coffer's release version and the Vault API level it matches.
package version

const (
	// Version is Coffer's own release version.
	Version = "0.1.0"
	// VaultAPIVersion is the Vault release whose HTTP API behaviour Coffer
	// matches; clients that gate features on Vault's version see this one.
	VaultAPIVersion = "1.21.0"
)

// BuildDate is set at link time (-ldflags "-X .../version.BuildDate=...").
var BuildDate = "unknown"
