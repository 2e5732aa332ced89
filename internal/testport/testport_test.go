package testport

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// heldElsewhere reports whether another open file description holds the
// lock on port's file, as a second test process would find it.
func heldElsewhere(t *testing.T, port string) bool {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "coffer-test-ports", port), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil
}

func TestReservationIsHeldUntilTheTestEnds(t *testing.T) {
	var port string
	t.Run("reserve", func(t *testing.T) {
		_, port, _ = net.SplitHostPort(Loopback(t))
		if !heldElsewhere(t, port) {
			t.Fatalf("port %s: its lock is free while the test that reserved it runs", port)
		}
	})
	if heldElsewhere(t, port) {
		t.Fatalf("port %s: still locked after the test that reserved it ended", port)
	}
}

func TestPortsAreOutsideTheEphemeralRangeAndDistinct(t *testing.T) {
	lo, hi := reservedRange()
	seen := map[int]bool{}
	for range 50 {
		p := Port(t)
		if p < lo || p > hi {
			t.Fatalf("port %d outside %d-%d", p, lo, hi)
		}
		if seen[p] {
			t.Fatalf("port %d reserved twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("reserved port %d cannot be listened on: %v", p, err)
		}
		l.Close()
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Fatal(err)
	}
	var ephLo, ephHi int
	if _, err := fmt.Sscan(string(b), &ephLo, &ephHi); err != nil {
		t.Fatal(err)
	}
	if ephLo > 11000 && (hi >= ephLo || lo < 10000) {
		t.Fatalf("range %d-%d overlaps the ephemeral range %d-%d", lo, hi, ephLo, ephHi)
	}
}

func TestOnUsesTheGivenHost(t *testing.T) {
	addr := On(t, "127.0.0.2")
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.2" {
		t.Fatalf("On(127.0.0.2) = %q", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("reserved %s cannot be listened on: %v", addr, err)
	}
	l.Close()
}
