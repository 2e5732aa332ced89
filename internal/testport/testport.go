// Package testport reserves loopback ports for servers a test starts
// later, often in a child process, so that nothing else takes them first.
package testport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Loopback reserves a port on 127.0.0.1 and returns it as host:port.
func Loopback(t testing.TB) string { return On(t, "127.0.0.1") }

// Port reserves a port on 127.0.0.1 and returns its number.
func Port(t testing.TB) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(Loopback(t))
	n, _ := strconv.Atoi(p)
	return n
}

// On reserves a port on the loopback address host until the test ends and
// returns it as host:port.
//
// Asking the kernel for port 0 and closing the listener reserves nothing:
// the kernel may hand the same port to the next outgoing connection or
// listener on port 0, and a server started a second later fails with
// "address already in use". So the port is drawn from below the kernel's
// ephemeral range, which neither of those ever takes, and held with an
// flock on a file in the temp directory, which keeps the test processes
// that `go test ./...` runs side by side from drawing the same one. The
// lock goes when the test ends or its process dies.
func On(t testing.TB, host string) string {
	t.Helper()
	addr, release, err := Reserve(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return addr
}

// reservedRange is the range ports are drawn from: the part of 10000-65535
// outside the kernel's ephemeral range, below it if there is room there.
// Where the ephemeral range covers nearly everything, the draw overlaps it
// and only the locks protect the port.
func reservedRange() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	f := strings.Fields(string(b))
	if err != nil || len(f) != 2 {
		return 10000, 32767 // Linux's default range starts at 32768
	}
	ephLo, err1 := strconv.Atoi(f[0])
	ephHi, err2 := strconv.Atoi(f[1])
	switch {
	case err1 != nil || err2 != nil:
		return 10000, 32767
	case ephLo > 11000:
		return 10000, ephLo - 1
	case ephHi < 64535:
		return ephHi + 1, 65535
	}
	return 10000, 65535
}

// Reserve is On for callers without a testing.TB (test scripts): the caller
// calls release when the port is no longer needed.
func Reserve(host string) (addr string, release func(), err error) {
	dir := filepath.Join(os.TempDir(), "coffer-test-ports")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("reserve a port: %w", err)
	}
	lo, hi := reservedRange()
	for range 500 {
		port := lo + rand.IntN(hi-lo+1)
		lock, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return "", nil, fmt.Errorf("reserve a port: %w", err)
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			lock.Close() // another test holds it
			continue
		}
		addr = net.JoinHostPort(host, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			lock.Close() // something outside the tests listens there
			continue
		}
		l.Close()
		return addr, func() { lock.Close() }, nil
	}
	return "", nil, fmt.Errorf("reserve a port on %s: no free port in %d-%d after 500 tries", host, lo, hi)
}
