package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithBinary builds the coffer binary into a temporary directory, sets
// *bin to its path, runs the package's tests and exits with their code:
// the TestMain of packages that run real server processes.
func RunWithBinary(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "coffer-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "coffer")
	build := exec.Command("go", "build", "-o", *bin, "github.com/cofferdev/coffer/cmd/coffer")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build coffer:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
