// Package compat holds the compatibility tests: a real Coffer server driven
// over HTTP by the official Vault Go client, one test file per endpoint group.
package compat
